import { SottoError } from '../errors.ts';

/** Progress of a backup operation, for a progress bar. */
export interface BackupProgress {
  /** `export`: writing records; `verify`: reading and authenticating; `import`: writing the new database; `swap`: finishing. */
  readonly phase: 'export' | 'verify' | 'import' | 'swap';
  /** Work done and total, in `unit`s (records when exporting, file bytes when reading). */
  readonly done: number;
  readonly total: number;
  readonly unit: 'records' | 'bytes';
}

/** Options every long backup operation takes. */
export interface BackupRunOptions {
  readonly onProgress?: (progress: BackupProgress) => void;
  /** Aborting rejects with CANCELLED and leaves nothing half-written. */
  readonly signal?: AbortSignal;
}

/** Throws CANCELLED if `signal` was aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SottoError('CANCELLED');
}
