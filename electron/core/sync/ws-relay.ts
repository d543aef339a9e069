import WebSocket from 'ws';
import type { PreKeyBundleData, PublishedKeys } from '../../../shared/protocol/keys.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  authMessage,
  type ClientFrame,
  type OutgoingWireEnvelope,
  RELAY_LIMITS,
  RELAY_PROTOCOL_VERSION,
  type ServerFrame,
  serverFrameSchema,
} from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import { log } from '../log.ts';
import type { IncomingEnvelope } from '../messaging/receive.ts';
import type { Relay, RelayHealth, RelayIdentity, RelaySubmission } from './relay.ts';

/** Timeouts of the WebSocket relay client. */
export interface WebSocketRelayOptions {
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

type Pending = { resolve: (frame: ServerFrame) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type RequestFrame = DistributiveOmit<Exclude<ClientFrame, { type: 'hello' | 'auth' }>, 'id'>;

/**
 * Client of a `sotto-relay` server (docs/relay-protocol.md): connects lazily,
 * authenticates with the identity key, buffers pushed envelopes, and turns
 * relay errors into SottoErrors (RELAY_REFUSED with the RELAY_ERR_* code as
 * detail; RELAY_UNAVAILABLE when the connection fails or drops).
 */
export class WebSocketRelay implements Relay {
  private socket: WebSocket | undefined;
  private connecting: Promise<WebSocket> | undefined;
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private inbox: IncomingEnvelope[] = [];
  private inboxWaiter: (() => void) | undefined;
  private queuedAtReady = 0;
  private readonly keysLowListeners: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly address: string,
    private readonly identity: RelayIdentity,
    private readonly options: WebSocketRelayOptions = {},
  ) {}

  async publishKeys(keys: PublishedKeys): Promise<void> {
    await this.request({ type: 'keys.publish', keys });
  }

  async fetchBundle(accountId: string, deviceId = 1): Promise<PreKeyBundleData> {
    const frame = await this.request({ type: 'keys.fetch', accountId: accountId as PreKeyBundleData['accountId'], deviceId });
    if (frame.type !== 'bundle') throw new SottoError('RELAY_REFUSED', 'unexpected answer');
    return frame.bundle;
  }

  async send(submission: RelaySubmission): Promise<void> {
    await this.request({ type: 'send', ...toWire(submission) });
  }

  async sendBatch(submissions: readonly RelaySubmission[]): Promise<(string | undefined)[]> {
    const results: (string | undefined)[] = [];
    for (const chunk of chunkForFrames(submissions.map(toWire))) {
      const frame = await this.request({ type: 'send.batch', envelopes: chunk });
      if (frame.type !== 'sent' || frame.results.length !== chunk.length) throw new SottoError('RELAY_REFUSED', 'unexpected answer');
      for (const result of frame.results) results.push('error' in result ? result.error : undefined);
    }
    return results;
  }

  async receive(max: number, waitMs: number): Promise<IncomingEnvelope[]> {
    await this.connection();
    if (this.inbox.length === 0 && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.inboxWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.inboxWaiter = undefined;
    }
    return this.inbox.splice(0, max);
  }

  async ack(envelopeIds: readonly string[]): Promise<void> {
    for (let i = 0; i < envelopeIds.length; i += RELAY_LIMITS.maxAckIds) {
      await this.request({ type: 'ack', envelopeIds: envelopeIds.slice(i, i + RELAY_LIMITS.maxAckIds) });
    }
  }

  async health(): Promise<RelayHealth> {
    try {
      await this.request({ type: 'ping' });
      return { reachable: true, queued: Math.max(this.queuedAtReady, this.inbox.length) };
    } catch {
      return { reachable: false };
    }
  }

  onKeysLow(listener: () => void): void {
    this.keysLowListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket;
    this.failPending();
    this.socket = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000);
      setTimeout(() => {
        socket.terminate();
        resolve();
      }, 1000).unref();
    });
  }

  /** Sends a request; a rate-limit answer is waited out and retried (it is not a refusal). */
  private async request(frame: RequestFrame): Promise<ServerFrame> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce(frame);
      } catch (error) {
        if (!(error instanceof SottoError && error.detail === 'RELAY_ERR_RATE_LIMITED') || attempt >= 8) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  private async requestOnce(frame: RequestFrame): Promise<ServerFrame> {
    const socket = await this.connection();
    const id = this.nextRequestId++;
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SottoError('RELAY_UNAVAILABLE', 'request timed out'));
      }, this.options.requestTimeoutMs ?? 15_000);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  private connection(): Promise<WebSocket> {
    if (this.closed) return Promise.reject(new SottoError('RELAY_UNAVAILABLE', 'closed'));
    if (this.socket?.readyState === WebSocket.OPEN && !this.connecting) return Promise.resolve(this.socket);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private connect(): Promise<WebSocket> {
    return new Promise<WebSocket>((resolve, reject) => {
      const url = `${this.address.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1`;
      const socket = new WebSocket(url, { maxPayload: RELAY_LIMITS.maxFrameBytes, handshakeTimeout: this.options.connectTimeoutMs ?? 5_000 });
      let ready = false;
      const fail = (error: Error) => {
        if (ready) return;
        ready = true;
        socket.terminate();
        reject(error);
      };
      const timer = setTimeout(() => fail(new SottoError('RELAY_UNAVAILABLE', 'handshake timed out')), this.options.connectTimeoutMs ?? 5_000);
      socket.on('error', () => fail(new SottoError('RELAY_UNAVAILABLE', 'connect failed')));
      socket.on('close', () => {
        clearTimeout(timer);
        fail(new SottoError('RELAY_UNAVAILABLE', 'closed during handshake'));
        this.onClosed(socket);
      });
      socket.on('message', (data, isBinary) => {
        const frame = isBinary ? undefined : parseFrame(data);
        if (!frame) {
          log.warn('relay.malformed_frame');
          socket.terminate();
          return;
        }
        if (!ready) {
          if (frame.type === 'challenge') {
            this.authenticate(socket, frame.nonce);
          } else if (frame.type === 'ready') {
            ready = true;
            clearTimeout(timer);
            this.socket = socket;
            this.queuedAtReady = frame.queued;
            resolve(socket);
          } else if (frame.type === 'error') {
            fail(new SottoError('RELAY_REFUSED', frame.code));
          } else if (frame.type === 'keys.low') {
            this.keysLow();
          }
          return;
        }
        this.dispatch(frame);
      });
    });
  }

  private authenticate(socket: WebSocket, nonce: string): void {
    const { accountId, deviceId } = this.identity;
    const signature = this.identity.sign(authMessage(fromBase64(nonce), accountId, deviceId));
    socket.send(JSON.stringify({ type: 'hello', protocol: RELAY_PROTOCOL_VERSION, accountId, deviceId }));
    socket.send(JSON.stringify({ type: 'auth', identityKey: toBase64(this.identity.identityKey), signature: toBase64(signature) }));
  }

  private dispatch(frame: ServerFrame): void {
    switch (frame.type) {
      case 'envelopes': {
        const known = new Set(this.inbox.map((e) => e.id));
        for (const envelope of frame.envelopes) {
          if (known.has(envelope.id)) continue;
          this.inbox.push({
            id: envelope.id,
            sender: envelope.from,
            senderDevice: envelope.fromDevice,
            type: envelope.ctype,
            body: fromBase64(envelope.body),
          });
        }
        this.inboxWaiter?.();
        return;
      }
      case 'keys.low':
        this.keysLow();
        return;
      case 'ok':
      case 'bundle':
      case 'pong':
      case 'sent':
      case 'error': {
        if (frame.id === undefined) return; // an unsolicited error: the close that follows tells the rest
        const pending = this.pending.get(frame.id);
        if (!pending) return;
        this.pending.delete(frame.id);
        clearTimeout(pending.timer);
        if (frame.type === 'error') pending.reject(new SottoError('RELAY_REFUSED', frame.code));
        else pending.resolve(frame);
        return;
      }
      case 'challenge':
      case 'ready':
        return;
    }
  }

  private keysLow(): void {
    for (const listener of this.keysLowListeners) listener();
  }

  private onClosed(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    // Unacked envelopes will be pushed again on the next connection.
    this.inbox = [];
    this.failPending();
    this.inboxWaiter?.();
  }

  /** Requests in flight will get no answer: fail them now rather than at their timeouts. */
  private failPending(): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new SottoError('RELAY_UNAVAILABLE', 'connection lost'));
      this.pending.delete(id);
    }
  }
}

function toWire(submission: RelaySubmission): OutgoingWireEnvelope {
  return {
    clientMessageId: submission.clientMessageId,
    to: submission.recipient as OutgoingWireEnvelope['to'],
    toDevice: submission.recipientDevice,
    ctype: submission.type,
    body: toBase64(submission.body),
  };
}

/** Splits envelopes into send.batch frames within the count and frame-size limits. */
function chunkForFrames(envelopes: OutgoingWireEnvelope[]): OutgoingWireEnvelope[][] {
  const budget = RELAY_LIMITS.maxFrameBytes - 4096; // room for the frame's own fields
  const chunks: OutgoingWireEnvelope[][] = [];
  let current: OutgoingWireEnvelope[] = [];
  let bytes = 0;
  for (const envelope of envelopes) {
    const size = envelope.body.length + 200;
    if (current.length > 0 && (current.length >= RELAY_LIMITS.maxBatchEnvelopes || bytes + size > budget)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(envelope);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function parseFrame(data: WebSocket.RawData): ServerFrame | undefined {
  try {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
    const parsed = serverFrameSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
