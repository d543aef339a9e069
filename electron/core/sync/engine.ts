import { SottoError, hasCode } from '../errors.ts';
import { findContactRelay } from '../contacts/contacts.ts';
import { announcePendingMove } from '../crypto/identity-reset.ts';
import { maintainKeys } from '../crypto/key-maintenance.ts';
import {
  encryptQueued,
  markSent,
  type OutboxScope,
  type OutgoingEnvelope,
  outboxIdsFor,
  readyEnvelopes,
  recipientsWithoutSession,
  recordRefusal,
} from '../messaging/outbox.ts';
import { type EnvelopeOutcome, processEnvelopes } from '../messaging/receive.ts';
import { startSession } from '../messaging/session.ts';
import type { Profile } from '../profile/profile.ts';
import { getSetting, setSetting } from '../profile/settings.ts';
import type { Relay } from './relay.ts';
import { RelayPool } from './relay-pool.ts';

/** What one pass over the outbox did. */
export interface SendReport {
  readonly sent: number;
  /** Entries left for later (relay unreachable, no session yet, identity change). */
  readonly waiting: number;
  /** Messages that just became `failed` after repeated refusals. */
  readonly failed: readonly number[];
}

/** What one drain of the mailbox did. */
export interface ReceiveReport {
  readonly stored: number;
  readonly duplicates: number;
  readonly receipts: number;
  readonly rejected: number;
  readonly retry: number;
}

/** Events a long-running engine reports (the CLI's `listen` prints them). */
export type SyncEvent =
  | { readonly type: 'connection'; readonly state: 'online' | 'offline' }
  | { readonly type: 'received'; readonly outcomes: readonly EnvelopeOutcome[] }
  | { readonly type: 'sent'; readonly count: number }
  | { readonly type: 'keys'; readonly published: number }
  /** A receive pass found the mailbox empty (a backlog, if any, is done). */
  | { readonly type: 'drained' };

/** Envelopes decrypted and committed per transaction when draining a mailbox. */
export const RECEIVE_BATCH = 100;

/**
 * Moves messages between a profile and relays: publishes keys, sends the
 * outbox in order (R4), and drains the mailbox in committed batches that are
 * acked only afterwards (R1, R2).
 */
export class SyncEngine {
  readonly pool: RelayPool;
  private keysLow = false;
  private homeRelay: Relay | undefined;

  constructor(
    private readonly profile: Profile,
    pool?: RelayPool,
  ) {
    this.pool = pool ?? new RelayPool(profile);
  }

  /** This profile's own relay (its mailbox and key directory). */
  get home(): Relay {
    if (!this.homeRelay) {
      const address = getSetting(this.profile.db, 'relay');
      if (!address) throw new SottoError('NOT_CONFIGURED');
      this.homeRelay = this.pool.get(address);
      this.homeRelay.onKeysLow(() => {
        this.keysLow = true;
      });
    }
    return this.homeRelay;
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
   * Sends what is queued: fetches bundles for recipients without a session,
   * encrypts, and hands envelopes to each recipient's relay in outbox order.
   * An unreachable relay leaves entries queued; refusals are counted (R5-like bound).
   */
  async sendOutbox(scope: OutboxScope = 'all'): Promise<SendReport> {
    const failed: number[] = [];
    for (const recipient of recipientsWithoutSession(this.profile, scope)) {
      try {
        await startSession(this.profile, await this.relayFor(recipient).fetchBundle(recipient), recipient);
      } catch (error) {
        if (hasCode(error, 'RELAY_UNAVAILABLE') || hasCode(error, 'IDENTITY_CHANGED')) continue;
        // A refusal or an unusable bundle counts against this recipient only.
        if (hasCode(error, 'RELAY_REFUSED') || hasCode(error, 'INVALID_INPUT') || hasCode(error, 'IDENTITY_MISMATCH')) {
          failed.push(...recordRefusal(this.profile, outboxIdsFor(this.profile, recipient)));
        } else throw error;
      }
    }
    while ((await encryptQueued(this.profile, 500, scope)) > 0) {
      // encrypt everything that can be, in chunks of 500
    }
    let sent = 0;
    const stalled = new Set<string>(); // keep per-recipient order: stop a recipient at its first failure
    for (;;) {
      const ready = readyEnvelopes(this.profile, 500, scope, [...stalled]);
      if (ready.length === 0) break;
      // One batch per relay, in outbox order (envelopes for one recipient share a relay).
      const byRelay = new Map<Relay, OutgoingEnvelope[]>();
      for (const envelope of ready) {
        const relay = this.relayFor(envelope.recipient);
        const share = byRelay.get(relay);
        if (share) share.push(envelope);
        else byRelay.set(relay, [envelope]);
      }
      for (const [relay, envelopes] of byRelay) {
        let results: (string | undefined)[];
        try {
          results = await relay.sendBatch(envelopes.map(toSubmission));
        } catch (error) {
          if (!hasCode(error, 'RELAY_UNAVAILABLE') && !hasCode(error, 'RELAY_REFUSED')) throw error;
          for (const envelope of envelopes) stalled.add(envelope.recipient);
          continue;
        }
        const done: number[] = [];
        const refused: number[] = [];
        envelopes.forEach((envelope, i) => {
          if (results[i] === undefined) done.push(envelope.outboxId);
          else {
            refused.push(envelope.outboxId);
            stalled.add(envelope.recipient);
          }
        });
        sent += this.commitSent(done);
        if (refused.length > 0) failed.push(...recordRefusal(this.profile, refused));
      }
    }
    const waiting = Number(
      this.profile.db.prepare(`SELECT count(*) FROM outbox WHERE next_attempt_at < ${Number.MAX_SAFE_INTEGER}`, { pluck: true }).get(),
    );
    return { sent, waiting, failed };
  }

  /**
   * Drains the home mailbox: batches are decrypted and committed, then acked.
   * Waits `firstWaitMs` for the first envelope and `idleMs` between batches;
   * returns when a wait comes back empty.
   */
  async receive(options: { firstWaitMs?: number; idleMs?: number; batchSize?: number; onBatch?: (o: readonly EnvelopeOutcome[]) => void } = {}): Promise<ReceiveReport> {
    const relay = this.home;
    const report = { stored: 0, duplicates: 0, receipts: 0, rejected: 0, retry: 0 };
    const batchSize = options.batchSize ?? RECEIVE_BATCH;
    let wait = options.firstWaitMs ?? 1_000;
    for (;;) {
      const batch = await relay.receive(batchSize, wait);
      // A full batch means more is likely queued behind the push window: give the
      // relay time to push it after our ack, even on a loaded machine.
      wait = batch.length >= batchSize ? Math.max(options.idleMs ?? 300, 2_000) : (options.idleMs ?? 300);
      if (batch.length === 0) return report;
      const outcomes = await processEnvelopes(this.profile, batch, { sendReceipts: true });
      await relay.ack(outcomes.filter((o) => o.outcome !== 'retry').map((o) => o.envelopeId));
      for (const o of outcomes) {
        if (o.outcome === 'stored') report.stored++;
        else if (o.outcome === 'duplicate') report.duplicates++;
        else if (o.outcome === 'receipt') report.receipts++;
        else if (o.outcome === 'rejected') report.rejected++;
        else report.retry++;
      }
      options.onBatch?.(outcomes);
    }
  }

  /**
   * Stays connected until `signal` aborts: publishes keys, sends the outbox,
   * receives, and reconnects with exponential backoff and jitter when the
   * relay goes away.
   */
  async listen(signal: AbortSignal, onEvent: (event: SyncEvent) => void): Promise<void> {
    let failures = 0;
    let online: boolean | undefined;
    const report = (state: boolean) => {
      if (online !== state) onEvent({ type: 'connection', state: state ? 'online' : 'offline' });
      online = state;
    };
    while (!signal.aborted) {
      try {
        const published = await this.publishKeys();
        if (published > 0) onEvent({ type: 'keys', published });
        report(true);
        const { sent } = await this.sendOutbox();
        if (sent > 0) onEvent({ type: 'sent', count: sent });
        await this.receive({
          firstWaitMs: 1_000,
          idleMs: 50,
          onBatch: (outcomes) => onEvent({ type: 'received', outcomes }),
        });
        onEvent({ type: 'drained' });
        failures = 0;
      } catch (error) {
        // Unreachable, or refusing for now (e.g. rate limits): wait and try again.
        if (!hasCode(error, 'RELAY_UNAVAILABLE') && !hasCode(error, 'RELAY_REFUSED')) throw error;
        report(false);
        failures++;
        await sleep(backoffMs(failures), signal);
      }
    }
  }

  /** Closes relay connections. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private relayFor(recipient: string): Relay {
    return this.pool.get(findContactRelay(this.profile.db, recipient) ?? this.home.address);
  }

  private commitSent(outboxIds: readonly number[]): number {
    if (outboxIds.length > 0) markSent(this.profile, outboxIds);
    return outboxIds.length;
  }
}

/** The relay submission (`sendBatch` item) for an outgoing envelope. */
export function toSubmission(envelope: OutgoingEnvelope) {
  return {
    clientMessageId: envelope.clientMessageId,
    recipient: envelope.recipient,
    recipientDevice: envelope.recipientDevice,
    type: envelope.type as 2 | 3,
    body: envelope.body,
  };
}

/** Exponential backoff with full jitter: 0.5 s doubling up to 30 s. */
export function backoffMs(failures: number, random = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.min(failures, 10));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

