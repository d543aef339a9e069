import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { BackupSummary, EventPayload, MethodInput } from '../../../shared/ipc/contract.ts';
import type { ErrorCode } from '../../../shared/errors.ts';
import { call, errorCodeOf } from '../bridge.ts';
import { inBackground } from '../background.ts';
import { useAppStore } from './app.ts';

export type BackupOperation = EventPayload<'backup:progress'>['operation'];
export type BackupProgress = Omit<EventPayload<'backup:progress'>, 'operation'>;

/** What a failed operation left to show: which form it belongs to, and its code. */
export interface BackupFailure {
  readonly operation: BackupOperation;
  readonly code: ErrorCode;
}

export type ExportBackupInput = { readonly passphrase: string } | { readonly recoveryKey: true };
export type RestoreInput = MethodInput<'backup:restore'>;
export type ConversationExportInput = MethodInput<'export:conversation'>;

// Backups, restores and readable exports (docs/backup-format.md). The core runs
// one at a time and picks the file in a native dialog itself; this store holds
// which one is running, its progress (the `backup:progress` event), and what
// the last one produced. A closed dialog or Cancel comes back as CANCELLED and
// is not a failure: the forms just return to where they were.
export const useBackupStore = defineStore('backup', () => {
  const running = ref<BackupOperation | null>(null);
  const progress = ref<BackupProgress | null>(null);
  const failure = ref<BackupFailure | null>(null);
  /** The last backup written: how many messages, how many bytes. */
  const exported = ref<{ messages: number; bytes: number } | null>(null);
  /** A generated recovery key, held only until the user says they wrote it down. */
  const recoveryKey = ref<string | null>(null);
  /** The manifest of the last verified file. */
  const verified = ref<BackupSummary | null>(null);
  /** The last restore (merge or first run): messages added and the backup's summary. */
  const restored = ref<{ added: number; summary: BackupSummary } | null>(null);
  /** The last readable export: how many messages it holds. */
  const conversationExport = ref<{ messages: number } | null>(null);
  // Bumped by reset(), so an operation that finishes after a lock stores nothing.
  let generation = 0;

  /** Runs one operation; the result, or null if it failed (see `failure`) or was cancelled. */
  async function run<T>(operation: BackupOperation, work: () => Promise<T>): Promise<T | null> {
    if (running.value !== null) return null;
    const mine = generation;
    running.value = operation;
    progress.value = null;
    failure.value = null;
    try {
      const result = await work();
      return mine === generation ? result : null;
    } catch (error) {
      const code = errorCodeOf(error);
      if (mine === generation && code !== 'CANCELLED') failure.value = { operation, code };
      return null;
    } finally {
      if (mine === generation) {
        running.value = null;
        progress.value = null;
      }
    }
  }

  /** A `backup:progress` event: applied only to the operation this window runs. */
  function applyProgress(event: EventPayload<'backup:progress'>): void {
    if (event.operation !== running.value) return;
    progress.value = { phase: event.phase, done: event.done, total: event.total };
  }

  async function exportBackup(input: ExportBackupInput): Promise<boolean> {
    exported.value = null;
    recoveryKey.value = null;
    const result = await run('export', () => call('backup:export', { ...input }));
    if (!result) return false;
    exported.value = { messages: result.messages, bytes: result.bytes };
    recoveryKey.value = result.recoveryKey;
    return true;
  }

  /** The user wrote the recovery key down: forget it (it is shown once). */
  function acknowledgeRecoveryKey(): void {
    recoveryKey.value = null;
  }

  async function verify(passphrase: string): Promise<boolean> {
    verified.value = null;
    const result = await run('verify', () => call('backup:verify', { passphrase }));
    if (!result) return false;
    verified.value = result;
    return true;
  }

  /** Restores (first run) or merges (unlocked); the app state the core returns becomes the app's. */
  async function restore(input: RestoreInput): Promise<boolean> {
    restored.value = null;
    const result = await run('restore', () => call('backup:restore', input));
    if (!result) return false;
    useAppStore().state = result.state;
    restored.value = { added: result.added, summary: result.summary };
    return true;
  }

  async function exportConversation(input: ConversationExportInput): Promise<boolean> {
    conversationExport.value = null;
    const result = await run('export-conversation', () => call('export:conversation', input));
    if (!result) return false;
    conversationExport.value = { messages: result.messages };
    return true;
  }

  /** Asks the core to stop the running operation; it then ends with CANCELLED. */
  async function cancel(): Promise<void> {
    if (running.value === null) return;
    await call('backup:cancel', {});
  }

  function clearFailure(): void {
    failure.value = null;
  }

  /** Locking forgets everything, and stops an operation whose result nobody would see. */
  function reset(): void {
    if (running.value !== null) inBackground(call('backup:cancel', {}));
    generation++;
    running.value = null;
    progress.value = null;
    failure.value = null;
    exported.value = null;
    recoveryKey.value = null;
    verified.value = null;
    restored.value = null;
    conversationExport.value = null;
  }

  return {
    running,
    progress,
    failure,
    exported,
    recoveryKey,
    verified,
    restored,
    conversationExport,
    applyProgress,
    exportBackup,
    acknowledgeRecoveryKey,
    verify,
    restore,
    exportConversation,
    cancel,
    clearFailure,
    reset,
  };
});
