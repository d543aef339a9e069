import { type DownloadRules, DOWNLOAD_EVERYTHING } from '../attachments/download-policy.ts';
import { runDownloads, runUploads } from '../attachments/jobs.ts';
import { log } from '../log.ts';
import { markTokenRegistered, tokenToRegister } from '../contacts/tokens.ts';
import { announcePendingMove } from '../crypto/identity-reset.ts';
import { maintainKeys } from '../crypto/key-maintenance.ts';
import type { OutboxScope } from '../messaging/outbox.ts';
import { type EnvelopeOutcome, processEnvelopes, retryUnprocessed } from '../messaging/receive.ts';
import type { StatusChange } from '../messaging/status-change.ts';
import type { Profile } from '../profile/profile.ts';
import { homeRelayId } from './home-relay-setting.ts';
import { listenUntil, type SyncEvent } from './listen.ts';
import { type ReceiveReport, tally } from './receive-report.ts';
import type { HomeRelay } from './relay.ts';
import { RelayPool } from './relay-pool.ts';
import { type SendReport, sendPass } from './send-pass.ts';

export type { SendReport } from './send-pass.ts';
export type { ReceiveReport } from './receive-report.ts';
export { backoffMs, sleep } from './backoff.ts';
export type { SyncEvent } from './listen.ts';

/** Envelopes decrypted and committed per transaction when draining a mailbox. */
export const RECEIVE_BATCH = 100;

/**
 * Moves messages between a profile and relays: registers the delivery token
 * and publishes keys at the home relay, sends the outbox in order (R4), and
 * drains the mailbox in committed batches that are acked only afterwards
 * (R1, R2). Outbox passes never overlap, whoever asks for them.
 */
export class SyncEngine {
  readonly pool: RelayPool;
  private running: Promise<SendReport> | undefined;
  private followUp: { scope: OutboxScope; promise: Promise<SendReport> } | undefined;
  private readonly relayBackoff = new Map<string, number>();
  /** Kept envelopes are retried once after a restart, then after drains that changed something. */
  private retriedSinceStart = false;
  private readonly statusListeners = new Set<StatusListener>();
  /**
   * Which attachments a drain downloads by itself: everything unless the owner
   * says otherwise (the CLI keeps that; the desktop app sets its Settings policy).
   */
  downloadRules: () => DownloadRules = () => ({ policy: DOWNLOAD_EVERYTHING, network: 'unknown' });

  constructor(
    private readonly profile: Profile,
    pool?: RelayPool,
  ) {
    this.pool = pool ?? new RelayPool(profile);
  }

  /** This profile's own relay (its mailbox, keys and token). */
  get home(): HomeRelay {
    // keys.low needs no listener: every key pass reads keys.status and refills to the stock (key-maintenance.ts).
    return this.pool.home;
  }

  /**
   * Subscribes to status changes of outgoing messages, as committed: `sent` and
   * `failed` from every outbox pass (whoever asked for it), `delivered` from
   * receipts. Only rows that changed are listed, so nobody re-reads history.
   */
  onStatusChange(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /**
   * Makes the home relay ready for an invite, which carries its relay id and
   * this account's token: the id pinned (connecting once if no connection has
   * shown it yet) and the token registered, so that a contact's first message
   * is not refused. RELAY_UNAVAILABLE when the relay cannot be reached,
   * RELAY_REFUSED when it is not the pinned one.
   */
  async connectHome(): Promise<void> {
    await this.registerToken();
    if (homeRelayId(this.profile) === undefined) await this.home.keyStatus();
  }

  /**
   * Registers this account's delivery token at the home relay if it has not
   * got it yet (first run, after a rotation or a relay change). Runs before
   * every send: a rotated token must be live before contacts learn it.
   */
  async registerToken(): Promise<boolean> {
    const home = this.home;
    const token = tokenToRegister(this.profile, home.address);
    if (!token) return false;
    await home.registerToken(token);
    markTokenRegistered(this.profile, home.address, token);
    return true;
  }

  /**
   * Key upkeep on the home relay (crypto/key-maintenance.ts): announces a
   * pending identity move, rotates signed keys when due, refills one-time keys
   * to their stock. Returns how many one-time keys were published.
   */
  async publishKeys(): Promise<number> {
    const relay = this.home;
    this.profile.assertUsable();
    await announcePendingMove(this.profile, relay);
    return (await maintainKeys(this.profile, relay)).published;
  }

  /**
   * Sends what is queued (see send-pass.ts). Single-flight: a caller that
   * arrives while a pass runs waits for it and then gets one more pass, which
   * every such caller shares (it covers whatever they queued meanwhile).
   * Token registration comes first.
   */
  sendOutbox(scope: OutboxScope = 'all'): Promise<SendReport> {
    if (!this.running) return this.startPass(scope);
    if (this.followUp) {
      if (scope === 'all') this.followUp.scope = 'all';
      return this.followUp.promise;
    }
    const followUp: { scope: OutboxScope; promise: Promise<SendReport> } = {
      scope,
      promise: Promise.resolve(EMPTY_REPORT),
    };
    followUp.promise = this.running
      .catch(() => undefined)
      .then(() => {
        this.followUp = undefined;
        return this.startPass(followUp.scope);
      });
    this.followUp = followUp;
    return followUp.promise;
  }

  /**
   * Drains the home mailbox: batches are decrypted and committed, then every
   * envelope is acked (those whose inner layer failed were kept locally by the
   * commit), so undecryptable mail never fills the relay's push window. Waits
   * `firstWaitMs` for the first envelope and `idleMs` between batches; when a
   * wait comes back empty, retries what earlier passes kept (shouldRetryKept)
   * and returns.
   */
  async receive(
    options: {
      firstWaitMs?: number;
      idleMs?: number;
      batchSize?: number;
      onBatch?: (o: readonly EnvelopeOutcome[]) => void;
    } = {},
  ): Promise<ReceiveReport> {
    const relay = this.home;
    const started = Date.now();
    const report = { stored: 0, duplicates: 0, receipts: 0, control: 0, rejected: 0, retry: 0 };
    const batchSize = options.batchSize ?? RECEIVE_BATCH;
    let wait = options.firstWaitMs ?? 1_000;
    // Downloads start as soon as a batch that pointed to attachments is
    // committed, so they run during the idle wait below instead of after it.
    // Each call during a running pass gets one more pass after it, so the
    // last call's pass covers every batch.
    let downloads: Promise<unknown> | undefined;
    const download = (outcomes: readonly EnvelopeOutcome[]) => {
      if (!outcomes.some((o) => o.outcome === 'stored' || o.outcome === 'group')) return;
      downloads = runDownloads(this.profile, this.downloadRules);
      // Awaited below; this keeps a failure meanwhile from being unhandled.
      downloads.catch(() => undefined);
    };
    try {
      for (;;) {
        const batch = await relay.receive(batchSize, wait);
        // A full batch means more is likely queued behind the push window: give the
        // relay time to push it after our ack, even on a loaded machine.
        wait =
          batch.length >= batchSize
            ? Math.max(options.idleMs ?? 300, 2_000)
            : (options.idleMs ?? 300);
        if (batch.length === 0) {
          if (this.shouldRetryKept(report)) {
            // Only what earlier passes kept: this drain's failures just had their first attempt.
            const retried = await retryUnprocessed(this.profile, {
              sendReceipts: true,
              keptBefore: started,
            });
            if (retried.length > 0) {
              this.reportDelivered(retried);
              tally(report, retried);
              options.onBatch?.(retried);
              download(retried);
            }
          }
          // The mailbox is drained: fetch the attachments its messages pointed to.
          await (downloads ?? runDownloads(this.profile, this.downloadRules));
          return report;
        }
        const outcomes = await processEnvelopes(this.profile, batch, { sendReceipts: true });
        // R1: after the commit, and all of them: a `retry` is kept in the profile now.
        await relay.ack([...new Set(outcomes.map((o) => o.envelopeId))]);
        this.reportDelivered(outcomes);
        tally(report, outcomes);
        options.onBatch?.(outcomes);
        download(outcomes);
      }
    } catch (error) {
      // A relay gone mid-drain: the downloads already started finish before the caller may close the profile.
      await downloads?.catch(() => undefined);
      throw error;
    }
  }

  /**
   * A kept envelope can only open once something changed: a restart (like
   * Signal's startup retry) or a drain that committed messages, receipts or
   * control contents (a new session, key or token). Retrying after every idle
   * drain would spend the three attempts (R5) in seconds for nothing.
   */
  private shouldRetryKept(report: ReceiveReport): boolean {
    const first = !this.retriedSinceStart;
    this.retriedSinceStart = true;
    return first || report.stored + report.receipts + report.control > 0;
  }

  /**
   * Stays connected until `signal` aborts, reconnecting with backoff when the
   * relay goes away (listen.ts).
   */
  listen(signal: AbortSignal, onEvent: (event: SyncEvent) => void): Promise<void> {
    return listenUntil(this, signal, onEvent);
  }

  /** Closes relay connections (after a running outbox pass). */
  async close(): Promise<void> {
    await this.followUp?.promise.catch(() => undefined);
    await this.running?.catch(() => undefined);
    await this.pool.close();
  }

  private startPass(scope: OutboxScope): Promise<SendReport> {
    const pass = (async () => {
      await this.registerToken();
      // Uploads first: a message with attachments is queued only once its blobs are complete (R2).
      if (scope === 'all') await runUploads(this.profile, () => this.pool.homeBlobs());
      const report = await sendPass(this.profile, scope, {
        relay: (address, relayId) => this.pool.get(address, relayId),
        backoff: this.relayBackoff,
      });
      this.reportStatus(report.changes);
      return report;
    })().finally(() => {
      if (this.running === pass) this.running = undefined;
    });
    this.running = pass;
    return pass;
  }

  private reportDelivered(outcomes: readonly EnvelopeOutcome[]): void {
    this.reportStatus(outcomes.flatMap((o) => (o.outcome === 'receipt' ? o.delivered : [])));
  }

  private reportStatus(changes: readonly StatusChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.statusListeners) {
      try {
        listener(changes);
      } catch (error) {
        // A listener's failure must not fail the committed pass that reported it.
        log.error('sync.status_listener', error);
      }
    }
  }
}

const EMPTY_REPORT: SendReport = { sent: 0, waiting: 0, failed: [], changes: [] };

/** Receives the rows of one commit whose status changed. */
export type StatusListener = (changes: readonly StatusChange[]) => void;
