import { hasCode, SottoError } from '../errors.ts';
import {
  bundleRequestsNeeded,
  encryptQueued,
  markSent,
  type OutboxScope,
  outboxIdsFor,
  waitingCount,
  type ReadyEnvelope,
  sealReady,
} from '../messaging/outbox.ts';
import { refuseEntries } from '../messaging/refusals.ts';
import type { StatusChange } from '../messaging/status-change.ts';
import { startSession } from '../messaging/session.ts';
import { distributeSenderKeys, encryptGroupQueued } from '../groups/group-queue.ts';
import { sendGroupOutbox } from '../groups/group-send.ts';
import type { Profile } from '../profile/profile.ts';
import { retryAfterOf, TRY_LATER_CODES, UNSENT } from './relay-failure.ts';
import type { Relay } from './relay.ts';

// One pass over the outbox (docs/architecture.md#sync-engine-and-relays):
// bundles for recipients without a session, encryption committed with the
// session advance, then sealing at send time and one send.batch per relay.
// A recipient whose envelope was not stored is skipped for the rest of the
// pass, so its envelopes keep their order.

/** What one pass over the outbox did. */
export interface SendReport {
  readonly sent: number;
  /** Entries left for later (relay unreachable, no session yet, identity change). */
  readonly waiting: number;
  /** Messages that just became `failed` after repeated refusals. */
  readonly failed: readonly number[];
  /** Every message whose status this pass changed (`sent`, `failed`), in commit order. */
  readonly changes: readonly StatusChange[];
}

/** Where the pass gets relay clients and remembers relays that asked it to wait. */
export interface SendPassContext {
  relay(address: string, relayId: string | null): Relay;
  /** Relays (by key) that said "try again later", until when (ms). */
  readonly backoff: Map<string, number>;
}

/** Sealed envelopes sealed and sent per round of the pass. */
const SEAL_BATCH = 500;

/** Runs one pass. Only SyncEngine calls it, one pass at a time. */
export async function sendPass(
  profile: Profile,
  scope: OutboxScope,
  context: SendPassContext,
): Promise<SendReport> {
  const changes: StatusChange[] = [];
  const now = Date.now();
  // Group members who lack this device's chain get it pairwise first, in this pass (groups/group-queue.ts).
  if (scope === 'all') await distributeSenderKeys(profile, now);
  for (const { relay, relayId, request } of bundleRequestsNeeded(profile, scope)) {
    if ((context.backoff.get(relayKey(relay, relayId)) ?? 0) > now) continue;
    try {
      await startSession(
        profile,
        await context.relay(relay, relayId).fetchBundle(request),
        request.accountId,
      );
    } catch (error) {
      const code = refusalCode(error);
      if (code === undefined) {
        if (hasCode(error, 'RELAY_UNAVAILABLE'))
          noteBackoff(context, relayKey(relay, relayId), error);
        if (hasCode(error, 'RELAY_UNAVAILABLE') || hasCode(error, 'IDENTITY_CHANGED')) continue;
        throw error;
      }
      // A refusal or an unusable bundle counts against this recipient only.
      changes.push(...refuseEntries(profile, outboxIdsFor(profile, request.accountId), code));
    }
  }
  while ((await encryptQueued(profile, SEAL_BATCH, scope)) > 0) {
    // encrypt everything that can be, in chunks
  }
  let sent = 0;
  const stalled = new Set<string>();
  for (;;) {
    const ready = await sealReady(profile, SEAL_BATCH, scope, [...stalled]);
    if (ready.length === 0) break;
    for (const [key, share] of groupByRelay(ready)) {
      const first = share[0];
      if (!first) continue;
      const stall = () => share.forEach((e) => stalled.add(e.submission.recipient));
      if ((context.backoff.get(key) ?? 0) > Date.now()) {
        stall();
        continue;
      }
      let results: (string | undefined)[];
      try {
        results = await context
          .relay(first.relay, first.relayId)
          .sendBatch(share.map((e) => e.submission));
      } catch (error) {
        stall();
        const code = refusalCode(error);
        if (code !== undefined)
          changes.push(
            ...refuseEntries(
              profile,
              share.map((e) => e.outboxId),
              code,
            ),
          );
        else if (hasCode(error, 'RELAY_UNAVAILABLE')) noteBackoff(context, key, error);
        else throw error;
        continue;
      }
      const done: number[] = [];
      const refused = new Map<string, number[]>();
      share.forEach((envelope, i) => {
        const result = results[i];
        if (result === undefined) return void done.push(envelope.outboxId);
        stalled.add(envelope.submission.recipient);
        if (result === UNSENT || TRY_LATER_CODES.has(result)) return;
        refused.set(result, [...(refused.get(result) ?? []), envelope.outboxId]);
      });
      if (done.length > 0) changes.push(...markSent(profile, done));
      sent += done.length;
      for (const [code, ids] of refused) changes.push(...refuseEntries(profile, ids, code));
    }
  }
  if (scope === 'all') {
    await encryptGroupQueued(profile);
    sent += await sendGroupOutbox(profile, context);
  }
  const failed = changes.flatMap((c) => (c.status === 'failed' ? [c.messageId] : []));
  return { sent, waiting: waitingCount(profile), failed, changes };
}

function relayKey(relay: string, relayId: string | null): string {
  return `${relay}\n${relayId ?? ''}`;
}

function groupByRelay(ready: readonly ReadyEnvelope[]): Map<string, ReadyEnvelope[]> {
  const groups = new Map<string, ReadyEnvelope[]>();
  for (const envelope of ready) {
    const key = relayKey(envelope.relay, envelope.relayId);
    groups.set(key, [...(groups.get(key) ?? []), envelope]);
  }
  return groups;
}

/** The code to count for an error that refuses this recipient (not "try later"), else undefined. */
function refusalCode(error: unknown): string | undefined {
  if (!(error instanceof SottoError)) return undefined;
  if (error.code === 'RELAY_REFUSED') return error.detail ?? 'RELAY_REFUSED';
  if (error.code === 'RELAY_ADDRESS_REFUSED' || error.code === 'INSECURE_RELAY') return error.code;
  if (error.code === 'INVALID_INPUT' || error.code === 'IDENTITY_MISMATCH') return error.code;
  return undefined;
}

function noteBackoff(context: SendPassContext, key: string, error: unknown): void {
  const wait = retryAfterOf(error);
  if (wait > 0) context.backoff.set(key, Date.now() + wait);
}
