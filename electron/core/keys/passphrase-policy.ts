import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { SottoError } from '../errors.ts';
import { KDF_CEILING, KDF_FLOOR } from './kdf-bounds.ts';
import { DEFAULT_KDF_COST, type KdfCost } from './passphrase.ts';

// Sotto's one rule for secrets a user chooses: the profile passphrase (CLI
// `init` and `passphrase`, the app's first run, restore and passphrase change)
// and the backup passphrase. Both protect data an attacker may copy and then
// guess at offline, so the same zxcvbn bar applies; the renderer's meter is
// only a hint, the core decides here (docs/key-file.md#passphrase-policy).
//
// zxcvbn's dictionaries are loaded on the first check, not with this module:
// every `sotto` command's chunk reaches it through the core, and loading them
// cost each run ~100 ms of CPU that only init, passphrase and the backup
// commands use (docs/architecture.md#build).

/** zxcvbn score (0–4) a user-chosen passphrase needs. */
export const MIN_PASSPHRASE_SCORE = 3;

export { KDF_CEILING, KDF_FLOOR };

/** How strong a passphrase is, and why not, for the UI. */
export interface PassphraseStrength {
  /** zxcvbn's 0–4. */
  readonly score: number;
  readonly acceptable: boolean;
  /** zxcvbn's warning and suggestions (English sentences, no user content). */
  readonly warning: string | null;
  readonly suggestions: readonly string[];
}

let factory: Promise<ZxcvbnFactory> | undefined;

/** zxcvbn with its dictionaries, imported once on first use (a failed import is tried again next time). */
function loadFactory(): Promise<ZxcvbnFactory> {
  factory ??= (async () => {
    const [{ ZxcvbnFactory }, common, english] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    return new ZxcvbnFactory({
      translations: english.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...english.dictionary },
    });
  })().catch((error: unknown) => {
    factory = undefined;
    throw error;
  });
  return factory;
}

/**
 * Rates a passphrase with zxcvbn (common and English dictionaries, keyboard
 * patterns); `userInputs` (the display name) count as guessable words.
 */
export async function checkPassphraseStrength(
  passphrase: string,
  userInputs: readonly string[] = [],
): Promise<PassphraseStrength> {
  // NFC, as the key derivation sees it: the rating is of what is actually used.
  const result = (await loadFactory()).check(passphrase.normalize('NFC'), [...userInputs]);
  return {
    score: result.score,
    acceptable: result.score >= MIN_PASSPHRASE_SCORE,
    warning: result.feedback.warning || null,
    suggestions: result.feedback.suggestions,
  };
}

/** Throws WEAK_PASSPHRASE unless the passphrase scores at least MIN_PASSPHRASE_SCORE. */
export async function assertStrongPassphrase(
  passphrase: string,
  userInputs: readonly string[] = [],
): Promise<void> {
  if (!(await checkPassphraseStrength(passphrase, userInputs)).acceptable)
    throw new SottoError('WEAK_PASSPHRASE');
}

/**
 * Throws INVALID_INPUT, naming the limit, if `cost` is cheaper than KDF_FLOOR
 * or dearer than KDF_CEILING.
 */
export function assertKdfCost(cost: Pick<KdfCost, 'memoryKiB' | 'iterations'>): void {
  if (cost.memoryKiB < KDF_FLOOR.memoryKiB || cost.iterations < KDF_FLOOR.iterations) {
    throw new SottoError(
      'INVALID_INPUT',
      `the Argon2id cost must be at least ${KDF_FLOOR.memoryKiB / 1024} MiB and ${KDF_FLOOR.iterations} iterations`,
    );
  }
  if (cost.memoryKiB > KDF_CEILING.memoryKiB || cost.iterations > KDF_CEILING.iterations) {
    throw new SottoError(
      'INVALID_INPUT',
      `the Argon2id cost can be at most ${KDF_CEILING.memoryKiB / 1024} MiB and ${KDF_CEILING.iterations} iterations`,
    );
  }
}

/**
 * The Argon2id cost for user-given options (the CLI's `--kdf-memory <MiB>` and
 * `--kdf-iterations <n>`): DEFAULT_KDF_COST where unset, refused below KDF_FLOOR.
 */
export function kdfCostFromOptions(options: {
  readonly memoryMiB?: number;
  readonly iterations?: number;
}): KdfCost {
  const cost: KdfCost = {
    ...DEFAULT_KDF_COST,
    ...(options.memoryMiB === undefined ? {} : { memoryKiB: options.memoryMiB * 1024 }),
    ...(options.iterations === undefined ? {} : { iterations: options.iterations }),
  };
  assertKdfCost(cost);
  return cost;
}
