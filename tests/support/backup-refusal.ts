import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { importBackup, verifyBackup } from '../../electron/core/index.ts';
import { BACKUP_PASSPHRASE } from './backup.ts';
import { rejectedCode } from './errors.ts';
import { snapshotDir, TEST_KDF } from './profiles.ts';

// How the backup record tests show a forged or damaged file is refused
// before anything is written: the same code whether it is merged into the
// profile it came from or restored as a new one, and from verify --deep.

const FRESH_PASSPHRASE = 'fresh harbour kettle 5521';

/** Where a refused backup must leave nothing behind. */
export interface RefusalTarget {
  /** The existing profile a merge is tried into, and its passphrase. */
  readonly profileDir: string;
  readonly passphrase: string;
  /** The profile directory as it was before (snapshotDir); it must not change. */
  readonly before: Record<string, string>;
  /** A directory a restore into a new profile is tried at (it must not appear), and that profile's passphrase. */
  readonly fresh: string;
  readonly freshPassphrase?: string;
}

/** The code import of `path` fails with (merged and as a new profile; deep verify agrees), after checking nothing was written. */
export async function refusedEverywhere(
  path: string,
  target: RefusalTarget,
): Promise<string | undefined> {
  const merged = await rejectedCode(() =>
    importBackup(target.profileDir, path, {
      passphrase: BACKUP_PASSPHRASE,
      unlock: { passphrase: target.passphrase },
    }),
  );
  const created = await rejectedCode(() =>
    importBackup(target.fresh, path, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: target.freshPassphrase ?? FRESH_PASSPHRASE, kdfCost: TEST_KDF },
    }),
  );
  const deep = await rejectedCode(() => verifyBackup(path, BACKUP_PASSPHRASE, { deep: true }));
  expect([created, deep]).toEqual([merged, merged]);
  expect(snapshotDir(target.profileDir)).toEqual(target.before);
  expect(existsSync(target.fresh)).toBe(false);
  return merged;
}
