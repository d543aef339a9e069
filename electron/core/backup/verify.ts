import { AgeFileReader } from './age/file.ts';
import { readRecords, type ReadOptions } from './format/reader.ts';
import type { RecordCounts } from './format/record-order.ts';
import type { BackupManifest, DataRecord } from './format/records.ts';
import { identityCheckHooks } from './identity-check.ts';
import { normalizeRecoveryKey } from './passphrase.ts';
import type { BackupRunOptions } from './progress.ts';

/** Options for `verifyBackup`. */
export interface VerifyBackupOptions extends BackupRunOptions {
  /**
   * Also parse and validate every record against its schema (what import's
   * first pass does). Without it: authenticated, hashed and counted.
   */
  readonly deep?: boolean;
}

/** A backup that passed verification. */
export interface VerifyReport {
  readonly manifest: BackupManifest;
  readonly counts: RecordCounts;
  readonly bytes: number;
}

/**
 * Reads and authenticates a whole backup file without touching any profile:
 * the age header and every chunk, the manifest's version, the record order,
 * the trailer's counts and its SHA-256 (deep: every record's schema and
 * identity key too). Rejects with WRONG_BACKUP_PASSPHRASE, BACKUP_TAMPERED,
 * BACKUP_TRUNCATED, BACKUP_TRAILING_DATA, BACKUP_UNSUPPORTED_VERSION,
 * IDENTITY_MISMATCH (deep) or CANCELLED.
 */
export async function verifyBackup(
  file: string,
  passphrase: string,
  options: VerifyBackupOptions = {},
): Promise<VerifyReport> {
  if (!options.deep) return readBackup(file, passphrase, { ...options, phase: 'verify' });
  // Deep: everything import's first pass refuses, identity keys included.
  return readBackup(file, passphrase, { ...options, phase: 'verify', ...identityCheckHooks() });
}

/** One full read of a backup file (verify, and both passes of import). */
export async function readBackup(
  file: string,
  passphrase: string,
  options: BackupRunOptions &
    Pick<ReadOptions, 'onManifest'> & {
      readonly deep?: boolean;
      readonly phase: 'verify' | 'import';
      readonly onRecords?: (records: readonly DataRecord[]) => void | Promise<void>;
    },
): Promise<VerifyReport> {
  const age = await AgeFileReader.open(file, normalizeRecoveryKey(passphrase));
  try {
    const total = age.size;
    const phase = options.phase;
    options.onProgress?.({ phase, done: 0, total, unit: 'bytes' });
    const result = await readRecords(age, {
      deep: options.deep === true || options.onRecords !== undefined,
      onManifest: options.onManifest,
      onRecords: options.onRecords,
      signal: options.signal,
      onChunk: (done) => options.onProgress?.({ phase, done, total, unit: 'bytes' }),
    });
    return { ...result, bytes: total };
  } finally {
    await age.close();
  }
}
