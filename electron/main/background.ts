// The one way main-process code starts work it does not await: a failure is
// logged (code only, never content) instead of becoming an unhandled rejection.
import { log } from '../core/log.ts';

/** Runs `task` without awaiting it; a rejection is logged under `event`. */
export function inBackground(event: string, task: () => Promise<unknown>): void {
  task().catch((error: unknown) => log.error(event, error));
}
