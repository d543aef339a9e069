import { describe, expect, it } from 'vitest';
import { DEFAULT_KDF_COST } from '../../../electron/core/keys/passphrase.ts';
import {
  assertKdfCost,
  assertStrongPassphrase,
  checkPassphraseStrength,
  KDF_CEILING,
  KDF_FLOOR,
  kdfCostFromOptions,
  MIN_PASSPHRASE_SCORE,
} from '../../../electron/core/keys/passphrase-policy.ts';
import * as backupPassphrase from '../../../electron/core/backup/passphrase.ts';
import { hasCode, SottoError } from '../../../electron/core/errors.ts';
import { createDatabaseKey, rewrapPassphrase } from '../../../electron/core/keys/database-key.ts';
import { TEST_KDF } from '../../support/profiles.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';

// The one rule for user-chosen passphrases and KDF costs (issue 9 §3).

describe('the passphrase rule', () => {
  it('refuses what zxcvbn scores below 3, and accepts a few unrelated words', async () => {
    for (const weak of [
      '',
      'password',
      'passw0rd!',
      '12345678',
      'qwertyuiop',
      'aaaaaaaaaaaa',
      'abcabcabcabc',
    ]) {
      expect((await checkPassphraseStrength(weak)).score).toBeLessThan(MIN_PASSPHRASE_SCORE);
      expect(await rejectedCode(() => assertStrongPassphrase(weak))).toBe('WEAK_PASSPHRASE');
    }
    expect(
      await rejectedCode(() => assertStrongPassphrase('quiet harbour lanterns orbit')),
    ).toBeUndefined();
  });

  it('counts the display name as a guessable word', async () => {
    const passphrase = 'zorblaxquent';
    expect((await checkPassphraseStrength(passphrase)).acceptable).toBe(true);
    expect(await rejectedCode(() => assertStrongPassphrase(passphrase, ['zorblaxquent']))).toBe(
      'WEAK_PASSPHRASE',
    );
  });

  it('is the rule backups use too (one implementation, not a copy)', () => {
    expect(backupPassphrase.assertStrongPassphrase).toBe(assertStrongPassphrase);
    expect(backupPassphrase.checkPassphraseStrength).toBe(checkPassphraseStrength);
    expect(backupPassphrase.MIN_PASSPHRASE_SCORE).toBe(3);
  });

  it('never puts the passphrase in the error', async () => {
    try {
      await assertStrongPassphrase('hunter2hunter2');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SottoError);
      expect(
        JSON.stringify({ ...(error as SottoError), message: (error as Error).message }),
      ).not.toContain('hunter2');
    }
  });
});

describe('the key module', () => {
  it('never wraps a key under a weak passphrase, whoever calls it (restore, change)', async () => {
    const file = (
      await createDatabaseKey({ passphrase: 'quiet harbour lanterns orbit', kdfCost: TEST_KDF })
    ).file;
    await expect(
      createDatabaseKey({ passphrase: 'password', kdfCost: TEST_KDF }),
    ).rejects.toSatisfy((e) => hasCode(e, 'WEAK_PASSPHRASE'));
    await expect(rewrapPassphrase(file, new Uint8Array(32), '', TEST_KDF)).rejects.toSatisfy((e) =>
      hasCode(e, 'WEAK_PASSPHRASE'),
    );
  });
});

describe('the KDF floor', () => {
  it('is 64 MiB × 3 and below the default, which is below the ceiling', () => {
    expect(KDF_FLOOR).toEqual({ memoryKiB: 65536, iterations: 3 });
    expect(DEFAULT_KDF_COST.memoryKiB).toBeLessThanOrEqual(KDF_CEILING.memoryKiB);
    expect(DEFAULT_KDF_COST.memoryKiB).toBeGreaterThanOrEqual(KDF_FLOOR.memoryKiB);
    expect(DEFAULT_KDF_COST.iterations).toBeGreaterThanOrEqual(KDF_FLOOR.iterations);
  });

  it('refuses a cheaper memory or pass count with INVALID_INPUT naming the floor', () => {
    for (const cost of [
      { memoryKiB: 64 * 1024 - 1, iterations: 3 },
      { memoryKiB: 1024, iterations: 1 },
      { memoryKiB: 1024 * 1024, iterations: 2 },
    ]) {
      let caught: unknown;
      try {
        assertKdfCost(cost);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SottoError);
      expect((caught as SottoError).code).toBe('INVALID_INPUT');
      expect((caught as SottoError).detail).toContain('64 MiB and 3 iterations');
    }
    expect(() => assertKdfCost(KDF_FLOOR)).not.toThrow();
  });

  it('refuses a cost above what key-file readers accept (4096 MiB, 64 passes) before trying it', () => {
    for (const options of [
      { memoryMiB: 4097 },
      { memoryMiB: 100_000 },
      { iterations: 65 },
      { memoryMiB: Number.MAX_SAFE_INTEGER },
    ]) {
      let caught: unknown;
      try {
        kdfCostFromOptions(options);
      } catch (error) {
        caught = error;
      }
      expect((caught as SottoError).code).toBe('INVALID_INPUT');
      expect((caught as SottoError).detail).toContain('at most 4096 MiB and 64 iterations');
    }
    expect(kdfCostFromOptions({ memoryMiB: 4096, iterations: 64 })).toEqual({
      ...DEFAULT_KDF_COST,
      memoryKiB: 4096 * 1024,
      iterations: 64,
    });
  });

  it('turns CLI options into a cost: the default where unset, MiB to KiB, the floor enforced', () => {
    expect(kdfCostFromOptions({})).toEqual(DEFAULT_KDF_COST);
    expect(kdfCostFromOptions({ memoryMiB: 64 })).toEqual({
      ...DEFAULT_KDF_COST,
      memoryKiB: 65536,
    });
    expect(kdfCostFromOptions({ iterations: 5 })).toEqual({ ...DEFAULT_KDF_COST, iterations: 5 });
    expect(thrownCode(() => kdfCostFromOptions({ memoryMiB: 8 }))).toBe('INVALID_INPUT');
    expect(thrownCode(() => kdfCostFromOptions({ iterations: 1 }))).toBe('INVALID_INPUT');
    expect(thrownCode(() => kdfCostFromOptions({ memoryMiB: 8, iterations: 1 }))).toBe(
      'INVALID_INPUT',
    );
  });
});
