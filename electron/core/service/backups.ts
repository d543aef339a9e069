import type { BackupSummary, EventPayload } from '../../../shared/ipc/contract.ts';
import { SottoError } from '../errors.ts';
import { exportBackup } from '../backup/export.ts';
import type { BackupManifest } from '../backup/format/records.ts';
import { generateRecoveryKey } from '../backup/passphrase.ts';
import type { BackupProgress, BackupRunOptions } from '../backup/progress.ts';
import { exportConversation } from '../backup/readable/export-conversation.ts';
import { verifyBackup } from '../backup/verify.ts';
import { contactOf } from './conversation-methods.ts';
import type { ParsedInput, ServiceParts } from './types.ts';

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

/** `backup:export`: the whole profile, sealed with the passphrase or a new recovery key (returned once). */
export function runExport(parts: ServiceParts, input: ParsedInput<'backup:export'>, file: string) {
  const profile = parts.open();
  const recoveryKey = input.recoveryKey ? generateRecoveryKey() : null;
  const passphrase = recoveryKey ?? input.passphrase ?? '';
  const appVersion = parts.options.appVersion;
  return parts.backups.run('export', async (run) => {
    const report = await exportBackup(profile, file, {
      ...run,
      passphrase,
      ...(appVersion ? { appVersion } : {}),
    });
    return { recoveryKey, messages: report.manifest.counts.message, bytes: report.bytes };
  });
}

/** `backup:verify`: reads the whole file without touching the profile. */
export function runVerify(parts: ServiceParts, input: ParsedInput<'backup:verify'>, file: string) {
  return parts.backups.run('verify', async (run) =>
    summaryOf((await verifyBackup(file, input.passphrase, run)).manifest),
  );
}

/** `export:conversation`: a readable export of one conversation or all. */
export function runConversationExport(
  parts: ServiceParts,
  input: ParsedInput<'export:conversation'>,
  file: string,
) {
  const profile = parts.open();
  const conversation =
    input.conversationId === null ? 'all' : contactOf(parts, input.conversationId).accountId;
  return parts.backups.run('export-conversation', async (run) => {
    const report = await exportConversation(profile, file, {
      ...run,
      conversation,
      format: input.format,
      ...(input.from !== undefined ? { from: input.from } : {}),
      ...(input.to !== undefined ? { to: input.to } : {}),
      ...(input.passphrase !== undefined ? { encryptWith: input.passphrase } : {}),
    });
    return { messages: report.messages };
  });
}
