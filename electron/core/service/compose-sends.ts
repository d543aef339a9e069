import type { ComposeOptions } from '../attachments/compose-seal.ts';
import { PROGRESS_INTERVAL_MS } from '../attachments/transfers.ts';
import { cancelTransfer, type ConversationScope } from '../attachments/transfer-control.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import type { Emit } from './types.ts';

// Sends with files the window may cancel while they are sealed (issue 13): a
// send that carries a `sendId` runs its compose under an AbortSignal kept
// here, and reports its seal as `attachments:sealing`. A Cancel during the
// seal aborts it (compose stores nothing and deletes its files); a Cancel
// after the message was stored cancels its uploads as `attachments:cancel`
// does. Main checks that the id is the calling window's own (send-owners.ts);
// this table only knows ids, never files or paths.

/** Ended sends remembered, so a late Cancel finds its message (the oldest are forgotten). */
export const ENDED_SENDS_KEPT = 64;

type SendState =
  | { readonly phase: 'sealing'; readonly abort: AbortController }
  | { readonly phase: 'stored'; readonly scope: ConversationScope; readonly ids: readonly number[] }
  | { readonly phase: 'refused' };

/** One send while it runs: what compose takes, and how the service reports its end. */
export interface SendRun {
  readonly options: Pick<ComposeOptions, 'signal' | 'progress'>;
  /** The message was stored; a Cancel that came after the seal ended cancels its uploads now. */
  stored(profile: Profile, scope: ConversationScope, attachmentIds: readonly number[]): void;
  /** Compose failed or was cancelled: nothing was stored. */
  refused(): void;
}

/** The sends with files of one service, by the renderer's send id. */
export class ComposeSends {
  private readonly sends = new Map<string, SendState>();

  constructor(private readonly emit: Emit) {}

  /** Registers a send; INVALID_INPUT for an id already used (every send gets a fresh one). */
  begin(sendId: string | undefined): SendRun {
    if (sendId === undefined) return { options: {}, stored: () => undefined, refused: () => {} };
    if (this.sends.has(sendId)) throw new SottoError('INVALID_INPUT', 'send id reused');
    const abort = new AbortController();
    this.sends.set(sendId, { phase: 'sealing', abort });
    let last = -Infinity;
    const progress = (done: number, total: number) => {
      const now = Date.now();
      if (now - last < PROGRESS_INTERVAL_MS && done < total) return;
      last = now;
      this.emit('attachments:sealing', { sendId, done, total });
    };
    return {
      options: { signal: abort.signal, progress },
      stored: (profile, scope, ids) => {
        this.end(sendId, { phase: 'stored', scope, ids });
        if (abort.signal.aborted) cancelUploads(profile, scope, ids);
      },
      refused: () => this.end(sendId, { phase: 'refused' }),
    };
  }

  /**
   * The user's Cancel of a send: true if it stopped a seal or an upload.
   * UNKNOWN_SEND for an id never begun here (or long forgotten).
   */
  cancel(profile: Profile, sendId: string): boolean {
    const state = this.sends.get(sendId);
    if (!state) throw new SottoError('UNKNOWN_SEND');
    switch (state.phase) {
      case 'sealing':
        if (state.abort.signal.aborted) return false;
        state.abort.abort();
        return true;
      case 'stored':
        return cancelUploads(profile, state.scope, state.ids);
      case 'refused':
        return false;
    }
  }

  private end(sendId: string, state: SendState): void {
    this.sends.delete(sendId); // re-inserted last: the oldest ended send is forgotten first
    this.sends.set(sendId, state);
    const ended = [...this.sends].filter(([, s]) => s.phase !== 'sealing');
    for (const [id] of ended.slice(0, Math.max(0, ended.length - ENDED_SENDS_KEPT)))
      this.sends.delete(id);
  }
}

/** Cancels the uploads of a stored send's files; true if any was still running or due. */
function cancelUploads(
  profile: Profile,
  scope: ConversationScope,
  ids: readonly number[],
): boolean {
  let cancelled = false;
  for (const id of ids) {
    try {
      if (cancelTransfer(profile, scope, id)) cancelled = true;
    } catch (error) {
      // Deleted meanwhile (with its message): nothing of it runs any more.
      if (!(error instanceof SottoError && error.code === 'UNKNOWN_ATTACHMENT')) throw error;
    }
  }
  return cancelled;
}
