import { hasCode } from '../errors.ts';
import type { EnvelopeOutcome } from '../messaging/receive.ts';
import { backoffMs, sleep } from './backoff.ts';
import type { SyncEngine } from './engine.ts';
import { retryAfterOf } from './relay-failure.ts';

// The long-running side of the sync engine (the CLI's `listen`, the app's sync
// supervisor): the engine's passes in a loop that outlives relay outages.

/** Events a long-running engine reports (the CLI's `listen` prints them). */
export type SyncEvent =
  | { readonly type: 'connection'; readonly state: 'online' | 'offline' }
  | { readonly type: 'received'; readonly outcomes: readonly EnvelopeOutcome[] }
  | { readonly type: 'sent'; readonly count: number }
  | { readonly type: 'keys'; readonly published: number }
  /** A receive pass found the mailbox empty (a backlog, if any, is done). */
  | { readonly type: 'drained' };

/**
 * Runs `engine` until `signal` aborts: registers the token, publishes keys,
 * sends the outbox, receives, and reconnects with exponential backoff and full
 * jitter (at least as long as the relay asked) when the relay goes away.
 */
export async function listenUntil(
  engine: SyncEngine,
  signal: AbortSignal,
  onEvent: (event: SyncEvent) => void,
): Promise<void> {
  let failures = 0;
  let online: boolean | undefined;
  const report = (state: boolean) => {
    if (online !== state) onEvent({ type: 'connection', state: state ? 'online' : 'offline' });
    online = state;
  };
  while (!signal.aborted) {
    try {
      await engine.registerToken();
      const published = await engine.publishKeys();
      if (published > 0) onEvent({ type: 'keys', published });
      const { sent } = await engine.sendOutbox();
      if (sent > 0) onEvent({ type: 'sent', count: sent });
      // Online only once the mailbox answered: the steps before may need no
      // connection at all, and reporting them as online made a dead relay flap.
      await engine.receive({
        firstWaitMs: 1_000,
        idleMs: 50,
        onBatch: (outcomes) => {
          report(true);
          onEvent({ type: 'received', outcomes });
        },
      });
      report(true);
      onEvent({ type: 'drained' });
      failures = 0;
    } catch (error) {
      // Unreachable, or refusing for now: wait and try again.
      if (!hasCode(error, 'RELAY_UNAVAILABLE') && !hasCode(error, 'RELAY_REFUSED')) throw error;
      report(false);
      failures++;
      await sleep(Math.max(backoffMs(failures), retryAfterOf(error)), signal);
    }
  }
}
