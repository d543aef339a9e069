import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type BackupProgress,
  exportBackup,
  importBackup,
  verifyBackup,
} from '../../../electron/core/index.ts';
import { addHistory, BACKUP_PASSPHRASE, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { rejectedCode } from '../../support/errors.ts';
import { newProfile, snapshotDir, tempDir } from '../../support/profiles.ts';

// Progress is reported all the way, and cancelling (an AbortSignal) stops an
// export, a verify or an import with CANCELLED and leaves nothing behind.

describe('progress and cancellation', () => {
  it('export, verify and import report progress up to their totals; each can be cancelled cleanly', async () => {
    const { profile, dir: profileDir, passphrase } = await newProfile('Canceller');
    addHistory(profile, 30_000, { contacts: 3 });
    const out = tempDir();
    const file = join(out, 'b.age');

    const seen: BackupProgress[] = [];
    const report = await exportBackup(profile, file, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.at(-1)).toMatchObject({ phase: 'export', unit: 'records' });
    expect(seen.at(-1)!.done).toBe(seen.at(-1)!.total);
    expect(seen.every((p, i) => i === 0 || p.done >= seen[i - 1]!.done)).toBe(true);

    // Export cancelled halfway: CANCELLED, no file and no temporary file.
    const stop = new AbortController();
    const cancelled = join(out, 'cancelled.age');
    const code = await rejectedCode(() =>
      exportBackup(profile, cancelled, {
        passphrase: BACKUP_PASSPHRASE,
        scryptLogN: TEST_SCRYPT_LOG_N,
        signal: stop.signal,
        onProgress: (p) => p.done > p.total / 2 && stop.abort(),
      }),
    );
    expect(code).toBe('CANCELLED');
    expect(readdirSync(out)).toEqual(['b.age']);
    await profile.close();

    const verifySteps: BackupProgress[] = [];
    await verifyBackup(file, BACKUP_PASSPHRASE, { onProgress: (p) => verifySteps.push(p) });
    expect(verifySteps.at(-1)).toMatchObject({
      phase: 'verify',
      done: report.bytes,
      total: report.bytes,
      unit: 'bytes',
    });

    // Import (merge) cancelled in its second pass: the profile is untouched.
    const before = snapshotDir(profileDir);
    const stopImport = new AbortController();
    expect(
      await rejectedCode(() =>
        importBackup(profileDir, file, {
          passphrase: BACKUP_PASSPHRASE,
          unlock: { passphrase },
          signal: stopImport.signal,
          onProgress: (p) => p.phase === 'import' && p.done > p.total / 2 && stopImport.abort(),
        }),
      ),
    ).toBe('CANCELLED');
    expect(snapshotDir(profileDir)).toEqual(before);

    // A new profile's import cancelled: no profile appears.
    const fresh = join(tempDir(), 'fresh');
    const stopFresh = new AbortController();
    expect(
      await rejectedCode(() =>
        importBackup(fresh, file, {
          passphrase: BACKUP_PASSPHRASE,
          create: {
            passphrase: 'a fine passphrase',
            kdfCost: { memoryKiB: 1024, iterations: 1, parallelism: 1 },
          },
          signal: stopFresh.signal,
          onProgress: (p) => p.phase === 'import' && p.done > p.total / 3 && stopFresh.abort(),
        }),
      ),
    ).toBe('CANCELLED');
    expect(existsSync(fresh)).toBe(false);
  });
});
