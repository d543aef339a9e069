import type WebSocket from 'ws';
import type { ClientFrame, ServerFrame } from '../shared/relay/protocol.ts';
import { answerAccountRequest, type AccountContext } from './account-requests.ts';
import type { AnonymousContext } from './anonymous-context.ts';
import { answerAnonymousRequest, isAnonymousFrame } from './anonymous-requests.ts';
import type { ConnectionBudget, RelayBudgets } from './budgets.ts';
import {
  announceAccountReady,
  challengeFrame,
  checkLogin,
  newNonce,
  readHello,
  type AccountHello,
  type Auth,
  type Hello,
} from './connection-handshake.ts';
import type { DeliveryTokens } from './delivery-tokens.ts';
import { PushWindow } from './delivery.ts';
import { CLOSE_CODES, closeCodeAfter, errorFrame, refusalsIn } from './frames.ts';
import { takeFrame } from './frame-intake.ts';
import { log } from './log.ts';
import type { RelaySettings } from './options.ts';
import { FrameSocket } from './frame-socket.ts';
import { FrameRateLimiter } from './rate-limit.ts';
import type { ConnectionRegistry, MailboxPeer } from './registry.ts';
import type { Mailbox, OneTimeKeyCounts, StoredEnvelope } from './storage.ts';

type Phase =
  | { readonly name: 'challenged'; readonly hello?: AccountHello }
  | { readonly name: 'account'; readonly context: AccountContext; readonly window: PushWindow }
  | { readonly name: 'anonymous'; readonly context: AnonymousContext }
  | { readonly name: 'closing' };

/** Where a connection came from and what it shares with the rest of the relay. */
export interface ConnectionEnvironment {
  readonly settings: RelaySettings;
  readonly registry: ConnectionRegistry;
  readonly budgets: RelayBudgets;
  readonly tokens: DeliveryTokens;
  /** The client's address (budget key only). */
  readonly address: string;
  /** Connected at a protocol-1 path: every hello is answered with UNSUPPORTED_VERSION. */
  readonly legacy: boolean;
}

/**
 * One client socket, from challenge to close: an account connection (logged
 * in, its own mailbox) or an anonymous one (sealed sends, bundle fetches).
 * Frames are handled one at a time in arrival order (so answers come in
 * request order even though storage is asynchronous); pushes go out between answers.
 */
export class RelayConnection implements MailboxPeer {
  private phase: Phase = { name: 'challenged' };
  private readonly nonce = newNonce();
  private readonly limiter: FrameRateLimiter;
  private readonly budget: ConnectionBudget;
  private readonly handshakeTimer: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  /** Set as soon as a frame dooms the connection, so frames behind it are dropped unread. */
  private doomed = false;
  private readonly io: FrameSocket;
  /** The logged-in device, set just before the connection joins the registry. */
  private self: Mailbox | undefined;
  private registered = false;

  constructor(
    socket: WebSocket,
    private readonly env: ConnectionEnvironment,
    private readonly onClosed: (connection: RelayConnection) => void,
  ) {
    const { settings } = env;
    this.limiter = new FrameRateLimiter(settings.maxFramesPerSecond, settings.now);
    this.budget = env.budgets.forConnection();
    this.io = new FrameSocket(socket);
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('close', (code) => this.closed(code));
    this.handshakeTimer = setTimeout(
      () => this.close(CLOSE_CODES.authTimeout, 'handshake deadline passed'),
      settings.handshakeTimeoutMs,
    );
    this.send(challengeFrame(settings, this.nonce));
  }

  /** The logged-in mailbox (the registry only holds account connections). */
  get mailbox(): Mailbox {
    if (this.self === undefined) throw new Error('connection is not logged in');
    return this.self;
  }

  /** The logged-in mailbox, or undefined before login and on anonymous connections. */
  get loggedIn(): Mailbox | undefined {
    return this.self;
  }

  envelopesArrived(envelopes?: readonly StoredEnvelope[]): void {
    if (this.phase.name === 'account') this.phase.window.arrived(envelopes);
  }

  /** The slow poll saw `seq` as the newest envelope of this connection's mailbox. */
  newestQueued(seq: number): void {
    if (this.phase.name === 'account') this.phase.window.newestQueued(seq);
  }

  /** Envelopes pushed on this connection and not yet acked. */
  get pushesInFlight(): number {
    return this.phase.name === 'account' ? this.phase.window.pending : 0;
  }

  envelopesAcked(envelopeIds: readonly string[]): void {
    if (this.phase.name === 'account') this.phase.window.acked(envelopeIds);
  }

  keysLow(counts: OneTimeKeyCounts): void {
    this.send({ type: 'keys.low', ...counts });
  }

  evict(): void {
    this.send(errorFrame('RELAY_ERR_ACCOUNT_MOVED'));
    this.close(CLOSE_CODES.authFailed, 'RELAY_ERR_ACCOUNT_MOVED');
  }

  /** Heartbeat tick: a WebSocket ping; the second one in a row without a pong closes the connection. */
  heartbeat(): void {
    this.io.heartbeat();
  }

  /**
   * Relay shutdown: lets the frame being handled finish (an accepted send is
   * committed and answered), closes with 1001, and resolves once the socket is
   * closed, cutting it after `graceMs` if the peer does not answer the close.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.doomed = true;
    const window = this.phase.name === 'account' ? this.phase.window : undefined;
    await this.queue;
    await window?.idle();
    this.close(CLOSE_CODES.goingAway, 'relay shutting down');
    await this.io.closeWithin(CLOSE_CODES.goingAway, 'relay shutting down', graceMs);
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.doomed) return;
    const intake = takeFrame(this.limiter, data, isBinary);
    if (intake.kind === 'frame') return this.enqueue(() => this.handle(intake.frame, intake.id));
    if (intake.kind === 'malformed') {
      this.doomed = true;
      return this.enqueue(() => this.answer(intake.answer));
    }
    if (intake.close) this.doomed = true;
    this.enqueue(() => {
      this.send(intake.answer);
      if (intake.close) this.close(CLOSE_CODES.policy, 'rate limited');
    });
  }

  /** Chains a step behind the ones already queued; a step's failure never stops the chain. */
  private enqueue(step: () => Promise<void> | void): void {
    this.queue = this.queue.then(step).catch(() => log.error('conn.step_failed'));
  }

  private async handle(frame: ClientFrame, id: number | undefined): Promise<void> {
    const phase = this.phase;
    if (phase.name === 'closing') return;
    try {
      if (frame.type === 'hello' || frame.type === 'auth') {
        // hello/auth after ready fit no state of the protocol.
        if (phase.name !== 'challenged') return this.answer(errorFrame('RELAY_ERR_MALFORMED'));
        if (frame.type === 'hello') return this.hello(frame);
        if (phase.hello) return await this.login(phase.hello, frame);
      } else if (frame.type === 'ping') {
        if (phase.name !== 'challenged')
          return this.answer({ type: 'pong', id: frame.id, serverTime: this.env.settings.now() });
      } else if (isAnonymousFrame(frame)) {
        // On an account connection a send would name its sender: refused.
        if (phase.name === 'anonymous')
          return await this.reply(await answerAnonymousRequest(frame, phase.context));
      } else if (phase.name === 'account') {
        return await this.reply(await answerAccountRequest(frame, phase.context));
      }
      return await this.reply(errorFrame('RELAY_ERR_UNAUTHENTICATED', id));
    } catch {
      log.error('storage.failed');
      this.answer(errorFrame('RELAY_ERR_INTERNAL', id));
    }
  }

  private hello(frame: Hello): void {
    const request = readHello(frame, this.env.legacy);
    if (request.kind === 'refused') return this.answer(errorFrame(request.code));
    if (request.kind === 'anonymous')
      return this.ready({ name: 'anonymous', context: this.anonymousContext() });
    this.phase = { name: 'challenged', hello: request.hello };
  }

  private anonymousContext(): AnonymousContext {
    const { settings, registry, budgets, address, tokens } = this.env;
    return { address, budget: this.budget, budgets, settings, registry, tokens };
  }

  private async login(hello: AccountHello, auth: Auth): Promise<void> {
    const result = await checkLogin(this.env.settings, this.nonce, hello, auth);
    if (result.kind === 'refused') {
      this.send(errorFrame(result.code));
      return this.close(CLOSE_CODES.authFailed, result.code);
    }
    if (this.phase.name === 'closing') return;
    const { self } = result;
    this.self = self;
    // Counted only once logged in, so strangers cannot use up an account's connections.
    if (!this.env.registry.add(this)) {
      log.info('conn.too_many');
      return this.answer(errorFrame('RELAY_ERR_TOO_MANY_CONNECTIONS'));
    }
    this.registered = true;
    const window = new PushWindow(this.env.settings.storage, self, (text) => this.sendText(text));
    const { settings, registry, budgets } = this.env;
    const context = { self, identityKey: result.identityKey, settings, registry, budgets };
    this.ready({ name: 'account', context, window });
    try {
      await announceAccountReady(
        settings.storage,
        self,
        (frame) => this.send(frame),
        (counts) => this.keysLow(counts),
      );
      window.start();
    } catch {
      log.error('storage.failed');
      this.send(errorFrame('RELAY_ERR_INTERNAL'));
    }
  }

  /** Enters a ready phase and says so (the `ready` frame of an account connection carries its queue). */
  private ready(phase: Extract<Phase, { name: 'account' | 'anonymous' }>): void {
    clearTimeout(this.handshakeTimer);
    this.phase = phase;
    log.info('conn.ready', { account: phase.name === 'account' });
    if (phase.name === 'anonymous') this.send({ type: 'ready', mode: 'anonymous' });
  }

  /** Sends an answer, then closes if the spec says this error ends the connection. */
  private answer(frame: ServerFrame): void {
    this.send(frame);
    const code = closeCodeAfter(frame);
    if (code !== undefined) this.close(code, frame.type === 'error' ? frame.code : '');
  }

  /**
   * Answers a request; a connection over its refusal budget then stops being
   * read until the budget refills (frames already read wait in its queue, new
   * ones in the kernel), so a flood of refused requests costs the sender time
   * instead of costing every connection CPU.
   */
  private async reply(frame: ServerFrame): Promise<void> {
    this.answer(frame);
    const refusals = refusalsIn(frame);
    const pauseMs = refusals > 0 ? this.budget.refused(refusals) : 0;
    if (pauseMs === 0 || this.phase.name === 'closing') return;
    log.info('conn.refusals_paused', { ms: pauseMs });
    await this.io.pauseReading(pauseMs);
  }

  private send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  private sendText(text: string): boolean {
    return this.phase.name !== 'closing' && this.io.sendText(text);
  }

  private close(code: number, reason: string): void {
    if (this.phase.name === 'closing') return;
    this.doomed = true;
    this.phase = { name: 'closing' };
    this.leaveRegistry();
    clearTimeout(this.handshakeTimer);
    this.io.close(code, reason);
  }

  private leaveRegistry(): void {
    if (this.registered) this.env.registry.remove(this);
    this.registered = false;
  }

  private closed(code: number): void {
    log.info('conn.closed', { code });
    // close() may not have run (the peer or ws closed first).
    this.leaveRegistry();
    this.phase = { name: 'closing' };
    this.doomed = true;
    clearTimeout(this.handshakeTimer);
    this.onClosed(this);
  }
}
