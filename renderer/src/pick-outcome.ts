// What a failed `attachments:send-files` leaves of the tray's picked files
// (docs/ipc.md#attachments). Main settles a send's pick tokens by the answer
// (givesBackPicks in electron/main/pick-calls.ts): a refusal the core
// answered (too large, over quota, a blocked contact) gives them back, so the
// tray keeps them and the next Send works; INTERNAL, or no answer at all (the
// core worker died, or failed after it may have queued the message) uses them
// up, so a second Send cannot send the files twice. A token main refuses as
// ATTACHMENT_PICK_EXPIRED will not work again either (and which one is not
// said). In those two cases the tray would hold files that can only fail:
// they leave it and the user is asked to attach them again.
import type { ErrorCode } from '../../shared/errors.ts';

/** Why a failed send took the picked files out of the tray. */
export type LostPicks = 'unknownOutcome' | 'expired';

/** What a send failing with `code` did to its picked files: null if the tray keeps them (they still send). */
export function lostPicks(code: ErrorCode): LostPicks | null {
  if (code === 'INTERNAL') return 'unknownOutcome';
  if (code === 'ATTACHMENT_PICK_EXPIRED') return 'expired';
  return null;
}
