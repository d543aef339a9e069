import { createHash, randomBytes, randomUUID } from 'node:crypto';
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
  DELIVERY_TOKEN_BYTES,
  RELAY_LIMITS,
  RELAY_PROTOCOL_VERSION,
  type ServerFrame,
  serverFrameSchema,
  type WireEnvelope,
} from '../../shared/relay/protocol.ts';

// A minimal relay client speaking the wire protocol (docs/relay-protocol.md)
// directly: an account connection (a fresh identity, login, a registered
// delivery token, every pushed envelope acked at once) or an anonymous one
// (sealed `send` requests with the recipient's token).

const DEVICE_ID = 1;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type RequestFrame = DistributiveOmit<
  Extract<
    ClientFrame,
    { type: 'send' | 'send.multi' | 'ack' | 'token.set' | 'ping' | 'keys.publish' }
  >,
  'id'
>;
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

/** Which kind of connection to open. */
export type RawMode = 'account' | 'anonymous';

/** Sends the hello (and for an account, the login) that answers `challenge`. */
function answerChallenge(
  socket: WebSocket,
  mode: RawMode,
  challenge: Extract<ServerFrame, { type: 'challenge' }>,
  identity: IdentityKeyPair,
  accountId: AccountId,
): void {
  if (mode === 'anonymous') {
    socket.send(JSON.stringify({ type: 'hello', protocol: RELAY_PROTOCOL_VERSION, mode }));
    return;
  }
  const nonce = fromBase64(challenge.nonce);
  const signature = identity.privateKey.sign(
    authMessage(challenge.relayId, nonce, accountId, DEVICE_ID),
  );
  socket.send(
    JSON.stringify({
      type: 'hello',
      protocol: RELAY_PROTOCOL_VERSION,
      mode,
      accountId,
      deviceId: DEVICE_ID,
    }),
  );
  socket.send(
    JSON.stringify({
      type: 'auth',
      identityKey: toBase64(identity.publicKey.serialize()),
      signature: toBase64(signature),
    }),
  );
}

/** One connection: an account (with its own identity and token) or anonymous. */
export class RawRelayClient {
  /** Called with performance.now() for every pushed envelope (before it is acked). */
  onEnvelope: ((envelope: WireEnvelope, at: number) => void) | undefined;
  /** The delivery token this account registered (account connections). */
  token = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly socket: WebSocket,
    readonly accountId: AccountId,
    /** The account's identity (its keys.publish must name it). */
    readonly identity: IdentityKeyPair,
  ) {
    socket.on('message', (data) => this.dispatch(parseFrame(data)));
    socket.on('error', () => undefined); // a close follows
    socket.on('close', () => {
      for (const pending of this.pending.values()) pending.reject(new Error('connection closed'));
      this.pending.clear();
    });
  }

  /**
   * Connects and resolves once the relay says `ready`: an account connection
   * (fresh identity, then a registered token) or an anonymous one.
   */
  static async connect(
    url: string,
    mode: RawMode = 'account',
    timeoutMs = 20_000,
  ): Promise<RawRelayClient> {
    const identity = IdentityKeyPair.generate();
    const accountId = accountIdFromDigest(
      createHash('sha256')
        .update(ACCOUNT_ID_DOMAIN)
        .update(identity.publicKey.serialize())
        .digest(),
    );
    const socket = new WebSocket(url, {
      maxPayload: RELAY_LIMITS.maxFrameBytes,
      perMessageDeflate: false,
    });
    const client = await new Promise<RawRelayClient>((resolve, reject) => {
      const onMessage = (data: WebSocket.RawData) => {
        const frame = parseFrame(data);
        if (frame?.type === 'challenge') answerChallenge(socket, mode, frame, identity, accountId);
        else if (frame?.type === 'ready') {
          settle();
          resolve(new RawRelayClient(socket, accountId, identity));
        } else
          fail(
            frame?.type === 'error' ? `relay error ${frame.code}` : 'unexpected frame before ready',
          );
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
    if (mode === 'account') {
      client.token = toBase64(randomBytes(DELIVERY_TOKEN_BYTES));
      const answer = await client.request({ type: 'token.set', token: client.token });
      if (answer.type !== 'ok') throw new Error('token.set refused');
    }
    return client;
  }

  /** True while the socket is open. */
  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends one sealed envelope to `to`, device 1 (anonymous connections); resolves with the answer's code or 'ok'. */
  async trySend(to: AccountId, token: string, body: string): Promise<string> {
    const envelope = { clientMessageId: randomUUID(), to, toDevice: DEVICE_ID, token, body };
    const answer = await this.request({ type: 'send', envelope });
    return answer.type === 'error' ? answer.code : answer.type;
  }

  /** Like trySend, but a refusal throws. */
  async send(to: AccountId, token: string, body: string): Promise<void> {
    const outcome = await this.trySend(to, token, body);
    if (outcome !== 'ok') throw new Error(`send answered ${outcome}`);
  }

  /** Sends any request this client speaks and resolves with its answer. */
  ask(frame: RequestFrame): Promise<ServerFrame> {
    return this.request(frame);
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
    if ('id' in frame && frame.id !== undefined) {
      const pending = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      pending?.resolve(frame);
    }
  }
}
