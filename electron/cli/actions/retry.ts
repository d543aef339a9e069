import type { ErrorCode } from '../../../shared/errors.ts';
import { hasCode, SottoError } from '../../core/index.ts';
import type { SyncEngine } from '../../core/sync/engine.ts';
import { type GlobalOptions, print } from '../context.ts';

// `sotto retry CONTACT|GROUP`: every failed message is tried on its own, so
// one that cannot go again (its files were refused, a member's safety number
// changed) never keeps the others back; a message whose upload the user
// cancelled uploads its files again (from the relay's offset) and goes out
// once they are complete. The outcome of each is reported (`resumed` marks a
// cancelled upload), and the exit is non-zero if any did not go out.

/** The failed messages of one conversation and how to retry them (1:1 and groups differ). */
export interface RetryPlan {
  /** Our failed messages, oldest first. */
  readonly ids: readonly number[];
  /** Queues message `id` again (true: its cancelled upload was resumed); throws the core's refusal. */
  readonly requeue: (id: number) => Promise<boolean>;
  /** Message `id`'s status after the send pass. */
  readonly status: (id: number) => string | undefined;
}

/** What became of one retried message. */
export type RetryOutcome =
  | {
      readonly id: number;
      readonly outcome: 'sent' | 'queued' | 'failed';
      /** Its upload had been cancelled and was resumed. */
      readonly resumed?: true;
    }
  | { readonly id: number; readonly outcome: 'refused'; readonly code: ErrorCode };

/** Retries every message of `plan`, sends, prints each outcome; throws if any did not go out. */
export async function retryAll(
  g: GlobalOptions,
  engine: SyncEngine,
  plan: RetryPlan,
): Promise<void> {
  const refused = new Map<number, SottoError>();
  const resumed = new Set<number>();
  for (const id of plan.ids) {
    try {
      if (await plan.requeue(id)) resumed.add(id);
    } catch (error) {
      if (!(error instanceof SottoError)) throw error;
      refused.set(id, error);
    }
  }
  let relayError: SottoError | undefined;
  if (refused.size < plan.ids.length) {
    try {
      await engine.sendOutbox();
    } catch (error) {
      // A relay that is down leaves the messages queued: reported below like any unsent one.
      if (!hasCode(error, 'RELAY_UNAVAILABLE') && !hasCode(error, 'NOT_CONFIGURED')) throw error;
      relayError = error as SottoError;
    }
  }
  const outcomes = plan.ids.map((id): RetryOutcome => {
    const refusal = refused.get(id);
    if (refusal) return { id, outcome: 'refused', code: refusal.code };
    const status = plan.status(id);
    const upload = resumed.has(id) ? { resumed: true as const } : {};
    // 'failed': the relay refused it again until the send gave up (it stays failed for a later retry).
    if (status === 'sent' || status === 'delivered') return { id, outcome: 'sent', ...upload };
    return { id, outcome: status === 'failed' ? 'failed' : 'queued', ...upload };
  });
  const sent = outcomes.filter((o) => o.outcome === 'sent').length;
  print(g, { retried: plan.ids.length, sent, messages: outcomes }, () =>
    [
      ...outcomes.map(
        (o) =>
          `message ${o.id}: ${o.outcome}${'code' in o ? ` (${o.code})` : ''}${'resumed' in o ? ' (upload resumed)' : ''}`,
      ),
      `Retried ${plan.ids.length}; sent ${sent}.`,
    ].join('\n'),
  );
  const firstRefusal = refused.values().next().value;
  if (firstRefusal) throw new SottoError(firstRefusal.code, `${refused.size} not retried`);
  if (relayError) throw relayError;
  if (sent < plan.ids.length)
    throw new SottoError('RELAY_REFUSED', `${plan.ids.length - sent} not sent yet`);
}
