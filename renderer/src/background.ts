// The one helper for intentional fire-and-forget work (style.md §7): the
// promise is not awaited, and a failure becomes a notice with its error code.
import { errorCodeOf } from './bridge.ts';
import { useNoticesStore } from './stores/notices.ts';

/** Runs `task` without awaiting it; a failure is shown as a notice (code only). */
export function inBackground(task: Promise<unknown>): void {
  const notices = useNoticesStore();
  task.catch((error: unknown) => notices.pushError(errorCodeOf(error)));
}
