import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

// A TCP proxy on loopback that can stop forwarding without closing anything:
// what a dropped Wi-Fi link or a dead NAT entry looks like to both ends (a
// half-open connection: no FIN, no RST, just silence).

/** A running proxy in front of `target`. */
export interface StallingProxy {
  /** ws://127.0.0.1:PORT, to use as the relay address. */
  readonly address: string;
  /** Connections accepted so far. */
  connections(): number;
  /** Stops forwarding in both directions on every open connection (bytes are swallowed). */
  stall(): void;
  /** Forwards again (for connections opened from now on; stalled ones stay dead). */
  resume(): void;
  stop(): Promise<void>;
}

/** Starts a proxy forwarding loopback connections to `targetPort`. */
export async function startStallingProxy(targetPort: number): Promise<StallingProxy> {
  const sockets = new Set<Socket>();
  const stalled = new WeakSet<Socket>();
  let stalling = false;
  let accepted = 0;
  const open: { client: Socket; upstream: Socket }[] = [];
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    open.push({ client, upstream });
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!stalled.has(from) && !stalled.has(to)) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      // A stalled link reports nothing to either side.
      if (stalled.has(client)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
    if (stalling) {
      stalled.add(client);
      stalled.add(upstream);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `ws://127.0.0.1:${port}`,
    connections: () => accepted,
    stall: () => {
      stalling = true;
      for (const { client, upstream } of open) {
        stalled.add(client);
        stalled.add(upstream);
      }
    },
    resume: () => {
      stalling = false;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
