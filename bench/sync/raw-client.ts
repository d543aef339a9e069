import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import WebSocket from 'ws';
import {
  ACCOUNT_ID_DOMAIN,
  type AccountId,
  accountIdFromDigest,
} from '../../shared/protocol/account-id.ts';
import { fromBase64, toBase64 } from '../../shared/protocol/encoding.ts';
import {
  authMessage,
  type ClientFrame,
  RELAY_LIMITS,
  RELAY_PROTOCOL_VERSION,
  type ServerFrame,
  serverFrameSchema,
  type WireEnvelope,
} from '../../shared/relay/protocol.ts';

// A minimal relay client speaking the wire protocol (docs/relay-protocol.md)
// directly: a fresh identity per connection, the challenge/hello/auth
// handshake, `send` requests, and an automatic ack of every pushed envelope.

const DEVICE_ID = 1;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type RequestFrame = DistributiveOmit<Extract<ClientFrame, { type: 'send' | 'ack' }>, 'id'>;
type Pending = { resolve: (frame: ServerFrame) => void; reject: (error: Error) => void };

function textOf(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
}

function parseFrame(data: WebSocket.RawData): ServerFrame | undefined {
  try {
    const parsed = serverFrameSchema.safeParse(JSON.parse(textOf(data)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** One authenticated connection with its own account. */
export class RawRelayClient {
  /** Called with performance.now() for every pushed envelope (before it is acked). */
  onEnvelope: ((envelope: WireEnvelope, at: number) => void) | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly socket: WebSocket,
    readonly accountId: AccountId,
  ) {
    socket.on('message', (data) => this.dispatch(parseFrame(data)));
    socket.on('error', () => undefined); // a close follows
    socket.on('close', () => {
      for (const pending of this.pending.values()) pending.reject(new Error('connection closed'));
      this.pending.clear();
    });
  }

  /** Connects with a fresh identity and resolves once the relay says `ready`. */
  static connect(url: string, timeoutMs = 20_000): Promise<RawRelayClient> {
    const identity = IdentityKeyPair.generate();
    const identityKey = identity.publicKey.serialize();
    const accountId = accountIdFromDigest(
      createHash('sha256').update(ACCOUNT_ID_DOMAIN).update(identityKey).digest(),
    );
    const socket = new WebSocket(url, {
      maxPayload: RELAY_LIMITS.maxFrameBytes,
      perMessageDeflate: false,
    });
    return new Promise<RawRelayClient>((resolve, reject) => {
      const onMessage = (data: WebSocket.RawData) => {
        const frame = parseFrame(data);
        if (frame?.type === 'challenge') {
          const signature = identity.privateKey.sign(
            authMessage(fromBase64(frame.nonce), accountId, DEVICE_ID),
          );
          socket.send(
            JSON.stringify({
              type: 'hello',
              protocol: RELAY_PROTOCOL_VERSION,
              accountId,
              deviceId: DEVICE_ID,
            }),
          );
          socket.send(
            JSON.stringify({
              type: 'auth',
              identityKey: toBase64(identityKey),
              signature: toBase64(signature),
            }),
          );
        } else if (frame?.type === 'ready') {
          settle();
          resolve(new RawRelayClient(socket, accountId));
        } else {
          fail(
            frame?.type === 'error' ? `relay error ${frame.code}` : 'unexpected frame before ready',
          );
        }
      };
      const onError = (error: Error) => fail(`socket error: ${error.message}`);
      const onClose = (code: number) => fail(`closed (${code}) before ready`);
      const settle = () => {
        clearTimeout(timer);
        socket.off('message', onMessage);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const fail = (reason: string) => {
        settle();
        socket.on('error', () => undefined);
        socket.terminate();
        reject(new Error(reason));
      };
      const timer = setTimeout(() => fail('timed out before ready'), timeoutMs);
      socket.on('message', onMessage);
      socket.on('error', onError);
      socket.on('close', onClose);
    });
  }

  /** True while the socket is open. */
  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends one envelope (ctype 2) to `to`, device 1; resolves with the relay's `ok`. */
  async send(to: AccountId, body: string): Promise<void> {
    const answer = await this.request({
      type: 'send',
      clientMessageId: randomUUID(),
      to,
      toDevice: DEVICE_ID,
      ctype: 2,
      body,
    });
    if (answer.type !== 'ok')
      throw new Error(`send answered ${answer.type === 'error' ? answer.code : answer.type}`);
  }

  /** Closes the socket; resolves when closed (terminates it after `graceMs`). */
  close(graceMs = 2_000): Promise<void> {
    const socket = this.socket;
    if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.terminate(), graceMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000);
    });
  }

  private request(frame: RequestFrame): Promise<ServerFrame> {
    const id = this.nextId++;
    return new Promise<ServerFrame>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  private dispatch(frame: ServerFrame | undefined): void {
    if (!frame) return;
    if (frame.type === 'envelopes') {
      const at = performance.now();
      for (const envelope of frame.envelopes) this.onEnvelope?.(envelope, at);
      // Acks are fire-and-forget; their `ok` answers settle requests nobody awaits.
      void this.request({ type: 'ack', envelopeIds: frame.envelopes.map((e) => e.id) }).catch(
        () => undefined,
      );
      return;
    }
    if (
      (frame.type === 'ok' ||
        frame.type === 'error' ||
        frame.type === 'bundle' ||
        frame.type === 'pong') &&
      frame.id !== undefined
    ) {
      const pending = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      pending?.resolve(frame);
    }
  }
}
