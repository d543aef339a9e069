import { connect, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';

// A small TLS-terminating reverse proxy for tests, standing in for the Caddy
// of deploy/ (Caddy is not installed here): it ends TLS, forwards each HTTP
// request head (WebSocket upgrades) to the backend with the fewest open
// connections among the healthy ones, appends X-Forwarded-For as Caddy does,
// then pipes bytes both ways. Health is the node's GET /healthz on its ops
// port, polled like Caddy's health_uri: a draining node (503) gets no new
// connections. Must not import vitest (the bench may use it).

/** A relay node behind the proxy: its client port and its ops port. */
export interface Backend {
  readonly port: number;
  readonly opsPort: number;
}

/** A listening proxy. */
export interface TlsProxy {
  /** wss://127.0.0.1:PORT/v2 */
  readonly url: string;
  /** The backend index each proxied connection went to, in order. */
  readonly routes: readonly number[];
  /** Whether the last health check of each backend passed. */
  healthy(): readonly boolean[];
  close(): Promise<void>;
}

/** Longest request head the proxy reads before giving up on a client. */
const MAX_HEAD_BYTES = 16 * 1024;

/** Starts the proxy on a free loopback port. */
export async function startTlsProxy(options: {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly backends: readonly Backend[];
  readonly healthIntervalMs: number;
}): Promise<TlsProxy> {
  const { backends } = options;
  const healthy = backends.map(() => false);
  const open = backends.map(() => 0);
  const routes: number[] = [];
  const sockets = new Set<Socket>();

  const check = async () => {
    await Promise.all(
      backends.map(async (backend, i) => {
        try {
          const answer = await fetch(`http://127.0.0.1:${backend.opsPort}/healthz`, {
            signal: AbortSignal.timeout(options.healthIntervalMs * 5),
          });
          healthy[i] = answer.status === 200;
        } catch {
          healthy[i] = false;
        }
      }),
    );
  };
  await check();
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void check().finally(() => (checking = false));
  }, options.healthIntervalMs);

  /** The healthy backend with the fewest open connections (least_conn), or undefined. */
  const pick = (): number | undefined => {
    let best: number | undefined;
    for (const [i, up] of healthy.entries())
      if (up && (best === undefined || open[i]! < open[best]!)) best = i;
    return best;
  };

  const forward = (client: TLSSocket, head: Buffer, rest: Buffer) => {
    const index = pick();
    if (index === undefined) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const lines = head.toString('latin1').split('\r\n');
    lines.splice(1, 0, `X-Forwarded-For: ${client.remoteAddress ?? '127.0.0.1'}`);
    const upstream = connect(backends[index]!.port, '127.0.0.1');
    sockets.add(upstream);
    open[index]! += 1;
    routes.push(index);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      upstream.write(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), rest]));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => {
      // A node that died between health checks: out of rotation until it answers again.
      if (!connected) healthy[index] = false;
      client.destroy();
    });
    upstream.once('close', () => {
      open[index]! -= 1;
      sockets.delete(upstream);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
  };

  const server = createServer({ cert: options.cert, key: options.key }, (client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_HEAD_BYTES) client.destroy();
        return;
      }
      client.off('data', onData);
      client.pause();
      // The head without its blank line; forward() puts the header back and adds its own.
      forward(client, buffered.subarray(0, end + 4), buffered.subarray(end + 4));
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `wss://127.0.0.1:${port}/v2`,
    routes,
    healthy: () => [...healthy],
    close: async () => {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
