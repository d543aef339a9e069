import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import {
  RELAY_PROTOCOL_VERSION,
  type ClientFrame,
  type ServerFrame,
} from '../shared/relay/protocol.ts';
import { verifyAuth } from './auth.ts';
import { PushWindow } from './delivery.ts';
import {
  CLOSE_CODES,
  closeCodeAfter,
  decodeClientFrame,
  encodeBase64,
  errorFrame,
  requestIdOf,
} from './frames.ts';
import { log } from './log.ts';
import type { RelaySettings } from './options.ts';
import { FrameRateLimiter } from './rate-limit.ts';
import type { ConnectionRegistry, MailboxPeer } from './registry.ts';
import { answerRequest, keysAreLow, type RequestContext } from './requests.ts';
import type { Mailbox, OneTimeKeyCounts } from './storage.ts';

type Hello = Extract<ClientFrame, { type: 'hello' }>;
type Auth = Extract<ClientFrame, { type: 'auth' }>;

type Phase =
  | { readonly name: 'challenged'; readonly hello?: Hello }
  | { readonly name: 'ready'; readonly context: RequestContext; readonly window: PushWindow }
  | { readonly name: 'closing' };

const NONCE_BYTES = 32;
const MISSED_PONGS_BEFORE_CLOSE = 2;

/**
 * One client socket, from challenge to close. Frames are handled one at a
 * time in arrival order (so answers come in request order even though storage
 * is asynchronous); pushes go out between answers.
 */
export class RelayConnection implements MailboxPeer {
  private phase: Phase = { name: 'challenged' };
  private readonly nonce = randomBytes(NONCE_BYTES);
  private readonly limiter: FrameRateLimiter;
  private readonly authTimer: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  /** Set as soon as a frame dooms the connection, so frames behind it are dropped unread. */
  private doomed = false;
  private unansweredPings = 0;
  /** The authenticated device, set just before the connection joins the registry. */
  private self: Mailbox | undefined;
  private registered = false;
  private readonly socketClosed: Promise<void>;

  constructor(
    private readonly socket: WebSocket,
    private readonly settings: RelaySettings,
    private readonly registry: ConnectionRegistry,
    private readonly onClosed: (connection: RelayConnection) => void,
  ) {
    this.limiter = new FrameRateLimiter(settings.maxFramesPerSecond, settings.now);
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('pong', () => {
      this.unansweredPings = 0;
    });
    // ws reports protocol violations (oversized frame: 1009, bad UTF-8: 1007) here and closes by itself.
    socket.on('error', () => log.info('conn.socket_error'));
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', (code) => this.closed(code));
    this.authTimer = setTimeout(
      () => this.close(CLOSE_CODES.authTimeout, 'authentication deadline passed'),
      settings.authTimeoutMs,
    );
    this.send({
      type: 'challenge',
      protocol: RELAY_PROTOCOL_VERSION,
      nonce: encodeBase64(this.nonce),
      serverTime: settings.now(),
    });
  }

  /** The authenticated mailbox (the registry only holds authenticated connections). */
  get mailbox(): Mailbox {
    if (this.self === undefined) throw new Error('connection is not authenticated');
    return this.self;
  }

  envelopesArrived(): void {
    if (this.phase.name === 'ready') this.phase.window.fill();
  }

  envelopesAcked(envelopeIds: readonly string[]): void {
    if (this.phase.name === 'ready') this.phase.window.acked(envelopeIds);
  }

  keysLow(counts: OneTimeKeyCounts): void {
    this.send({ type: 'keys.low', ...counts });
  }

  /** Heartbeat tick: a WebSocket ping; the second one in a row without a pong closes the connection. */
  heartbeat(): void {
    if (this.unansweredPings >= MISSED_PONGS_BEFORE_CLOSE) {
      log.info('conn.heartbeat_lost');
      this.socket.terminate();
      return;
    }
    this.unansweredPings += 1;
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  /**
   * Relay shutdown: lets the frame being handled finish (an accepted send is
   * committed and answered), closes with 1001, and resolves once the socket is
   * closed, cutting it after `graceMs` if the peer does not answer the close.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.doomed = true;
    const window = this.phase.name === 'ready' ? this.phase.window : undefined;
    await this.queue;
    await window?.idle();
    this.close(CLOSE_CODES.goingAway, 'relay shutting down');
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([this.socketClosed, grace]);
    this.socket.terminate();
    await this.socketClosed;
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.doomed) return;
    const rate = this.limiter.hit();
    const incoming = decodeClientFrame(data, isBinary);
    if (!incoming.ok) {
      this.doomed = true;
      log.info('conn.bad_frame', {
        binary: isBinary,
        unknownType: incoming.code === 'RELAY_ERR_UNKNOWN_TYPE',
      });
      this.enqueue(() => this.answer(errorFrame(incoming.code, incoming.id)));
      return;
    }
    const id = requestIdOf(incoming.frame);
    if (rate !== 'accept') {
      if (rate === 'close') this.doomed = true;
      log.info('conn.rate_limited', { closing: rate === 'close' });
      this.enqueue(() => {
        this.send(errorFrame('RELAY_ERR_RATE_LIMITED', id));
        if (rate === 'close') this.close(CLOSE_CODES.policy, 'rate limited');
      });
      return;
    }
    const frame = incoming.frame;
    this.enqueue(() => this.handle(frame, id));
  }

  /** Chains a step behind the ones already queued; a step's failure never stops the chain. */
  private enqueue(step: () => Promise<void> | void): void {
    this.queue = this.queue.then(step).catch(() => log.error('conn.step_failed'));
  }

  private async handle(frame: ClientFrame, id: number | undefined): Promise<void> {
    if (this.phase.name === 'closing') return;
    try {
      if (this.phase.name === 'ready') {
        // hello/auth after ready fit no state of the protocol.
        if (frame.type === 'hello' || frame.type === 'auth')
          return this.answer(errorFrame('RELAY_ERR_MALFORMED'));
        return this.answer(await answerRequest(frame, this.phase.context));
      }
      if (frame.type === 'hello') return this.hello(frame);
      if (frame.type === 'auth' && this.phase.hello)
        return await this.authenticate(this.phase.hello, frame);
      return this.answer(errorFrame('RELAY_ERR_UNAUTHENTICATED', id));
    } catch {
      log.error('storage.failed');
      this.answer(errorFrame('RELAY_ERR_INTERNAL', id));
    }
  }

  private hello(frame: Hello): void {
    if (frame.protocol !== RELAY_PROTOCOL_VERSION)
      return this.answer(errorFrame('RELAY_ERR_UNSUPPORTED_VERSION'));
    this.phase = { name: 'challenged', hello: frame };
  }

  private async authenticate(hello: Hello, auth: Auth): Promise<void> {
    const { storage, now } = this.settings;
    const attempt = {
      accountId: hello.accountId,
      deviceId: hello.deviceId,
      identityKey: auth.identityKey,
      signature: auth.signature,
    };
    if (!(await verifyAuth(storage, this.nonce, attempt, now()))) {
      log.info('conn.auth_failed');
      return this.answer(errorFrame('RELAY_ERR_AUTH_FAILED'));
    }
    const identityKey = await storage.boundIdentityKey(hello.accountId);
    if (identityKey === undefined) throw new Error('account binding vanished');
    if (this.phase.name === 'closing') return;
    const self: Mailbox = { accountId: hello.accountId, deviceId: hello.deviceId };
    this.self = self;
    // Counted only once authenticated, so strangers cannot use up an account's connections.
    if (!this.registry.add(this)) {
      log.info('conn.too_many');
      return this.answer(errorFrame('RELAY_ERR_TOO_MANY_CONNECTIONS'));
    }
    this.registered = true;
    clearTimeout(this.authTimer);
    const window = new PushWindow(storage, self, (text) => this.sendText(text));
    this.phase = {
      name: 'ready',
      context: { self, identityKey, settings: this.settings, registry: this.registry },
      window,
    };
    log.info('conn.ready');
    try {
      await this.sendReady(self, window);
    } catch {
      // Without `ready` the client cannot tell where it stands: make it reconnect.
      log.error('storage.failed');
      this.send(errorFrame('RELAY_ERR_INTERNAL'));
      this.close(CLOSE_CODES.internal, 'RELAY_ERR_INTERNAL');
    }
  }

  private async sendReady(self: Mailbox, window: PushWindow): Promise<void> {
    const { storage } = this.settings;
    const queued = await storage.countQueued(self);
    this.send({ type: 'ready', accountId: self.accountId, deviceId: self.deviceId, queued });
    const counts = await storage.oneTimeKeyCounts(self.accountId, self.deviceId);
    if (counts !== undefined && keysAreLow(counts)) this.keysLow(counts);
    window.start();
  }

  /** Sends an answer, then closes if the spec says this error ends the connection. */
  private answer(frame: ServerFrame): void {
    this.send(frame);
    const code = closeCodeAfter(frame);
    if (code !== undefined) this.close(code, frame.type === 'error' ? frame.code : '');
  }

  private send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  private sendText(text: string): boolean {
    if (this.phase.name === 'closing' || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(text);
    return true;
  }

  private close(code: number, reason: string): void {
    if (this.phase.name === 'closing') return;
    this.doomed = true;
    this.phase = { name: 'closing' };
    this.leaveRegistry();
    clearTimeout(this.authTimer);
    if (
      this.socket.readyState === WebSocket.OPEN ||
      this.socket.readyState === WebSocket.CONNECTING
    )
      this.socket.close(code, reason);
  }

  private leaveRegistry(): void {
    if (this.registered) this.registry.remove(this);
    this.registered = false;
  }

  private closed(code: number): void {
    log.info('conn.closed', { code });
    // close() may not have run (the peer or ws closed first).
    this.leaveRegistry();
    this.phase = { name: 'closing' };
    this.doomed = true;
    clearTimeout(this.authTimer);
    this.onClosed(this);
  }
}
