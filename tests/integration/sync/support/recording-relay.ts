import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientFrameSchema, type ClientFrame } from '../../../../shared/relay/protocol.ts';

// A protocol-2 relay that does nothing but speak the handshake and record
// every frame it is sent: the stand-in for a contact's relay (or an impostor
// at a known address) in tests that must prove what a client never sends it,
// such as a login. It stores nothing: sends are answered as stored, bundle
// fetches as refused. Real relays are tests/support/relay-process.ts.

/** What the recording relay saw from one connection. */
export interface RecordedConnection {
  readonly frames: ClientFrame[];
}

/** A running recording relay. */
export interface RecordingRelay {
  /** ws://127.0.0.1:PORT (the client adds /v2). */
  readonly address: string;
  readonly relayId: string;
  readonly connections: RecordedConnection[];
  /** Every frame of every connection, in order. */
  frames(): ClientFrame[];
  /** Stops answering pings (and everything else) on open connections: a relay that went silent. */
  silence(): void;
  stop(): Promise<void>;
}

/**
 * Starts a recording relay on a free loopback port. `answer` may replace the
 * answer to a request: an object is sent as JSON, a string as it is (a
 * hostile relay's malformed frame).
 */
export async function startRecordingRelay(
  relayId = randomBytes(16).toString('base64url'),
  answer: (frame: ClientFrame) => object | string | undefined = () => undefined,
): Promise<RecordingRelay> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const connections: RecordedConnection[] = [];
  let silent = false;
  server.on('connection', (socket: WebSocket) => {
    const recorded: RecordedConnection = { frames: [] };
    connections.push(recorded);
    let mode: 'account' | 'anonymous' | undefined;
    const send = (frame: object) => {
      if (!silent) socket.send(JSON.stringify(frame));
    };
    send({
      type: 'challenge',
      protocol: 2,
      relayId,
      nonce: randomBytes(32).toString('base64'),
      serverTime: Date.now(),
    });
    socket.on('message', (data: Buffer) => {
      const parsed = clientFrameSchema.safeParse(JSON.parse(data.toString('utf8')));
      if (!parsed.success) return socket.close(1008);
      const frame = parsed.data;
      recorded.frames.push(frame);
      if (frame.type === 'hello') {
        mode = frame.mode;
        if (mode === 'anonymous') send({ type: 'ready', mode });
        return;
      }
      if (frame.type === 'auth') return send({ type: 'ready', mode: 'account', queued: 0 });
      const special = answer(frame);
      if (typeof special === 'string') return silent ? undefined : socket.send(special);
      if (special) return send(special);
      if (frame.type === 'ping')
        return send({ type: 'pong', id: frame.id, serverTime: Date.now() });
      if (frame.type === 'send.batch') {
        return send({
          type: 'sent',
          id: frame.id,
          results: frame.envelopes.map(() => ({
            envelopeId: randomBytes(12).toString('base64url'),
          })),
        });
      }
      if (frame.type === 'keys.fetch') {
        return send({
          type: 'error',
          id: frame.id,
          code: 'RELAY_ERR_BAD_TOKEN',
          message: 'unknown recipient or wrong delivery token',
        });
      }
      send({ type: 'ok', id: frame.id });
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `ws://127.0.0.1:${port}`,
    relayId,
    connections,
    frames: () => connections.flatMap((c) => c.frames),
    silence: () => {
      silent = true;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
