import type { BackupSummary, EventPayload } from '../../../shared/ipc/contract.ts';
import { SottoError } from '../errors.ts';
import type { BackupManifest } from '../backup/format/records.ts';
import type { BackupProgress, BackupRunOptions } from '../backup/progress.ts';

type Operation = EventPayload<'backup:progress'>['operation'];

/** Progress events at most this often (a 1M-message export reports thousands of steps). */
const PROGRESS_INTERVAL_MS = 100;

/**
 * The one backup, restore or export the service runs at a time: its abort
 * signal (`backup:cancel`) and throttled progress events.
 */
export class BackupRun {
  private current: AbortController | undefined;

  constructor(private readonly progress: (payload: EventPayload<'backup:progress'>) => void) {}

  /** Runs `work` as the current operation; INVALID_INPUT if one is already running. */
  async run<T>(operation: Operation, work: (options: BackupRunOptions) => Promise<T>): Promise<T> {
    if (this.current)
      throw new SottoError('INVALID_INPUT', 'a backup operation is already running');
    const abort = new AbortController();
    this.current = abort;
    let last = 0;
    const onProgress = (p: BackupProgress) => {
      const now = Date.now();
      if (now - last < PROGRESS_INTERVAL_MS && p.done < p.total) return;
      last = now;
      this.progress({ operation, phase: p.phase, done: p.done, total: p.total });
    };
    try {
      return await work({ signal: abort.signal, onProgress });
    } finally {
      this.current = undefined;
    }
  }

  /** Cancels the running operation (it rejects with CANCELLED and leaves nothing half-written). */
  cancel(): void {
    this.current?.abort();
  }
}

/** The file main's dialog gave, for a file method. */
export function chosenFile(file: string | undefined): string {
  if (file === undefined) throw new SottoError('INVALID_INPUT', 'no file chosen');
  return file;
}

/** The UI's view of a backup's manifest. */
export function summaryOf(manifest: BackupManifest): BackupSummary {
  return {
    accountId: manifest.accountId,
    createdAt: manifest.createdAt,
    appVersion: manifest.app.version,
    messages: manifest.counts.message,
    contacts: manifest.counts.contact,
    conversations: manifest.counts.conversation,
  };
}
