import { randomBytes } from 'node:crypto';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import { SottoError } from '../errors.ts';

// A backup sits wherever the user puts it, so its passphrase must resist an
// offline guessing attack: scrypt slows each guess, the passphrase's entropy
// does the rest. Either the user's own (checked with zxcvbn) or a generated
// recovery key.

/** zxcvbn score (0–4) a user-chosen backup passphrase needs. */
export const MIN_PASSPHRASE_SCORE = 3;

/** How strong a passphrase is, and why not, for the UI. */
export interface PassphraseStrength {
  /** zxcvbn's 0–4. */
  readonly score: number;
  readonly acceptable: boolean;
  /** zxcvbn's warning and suggestions (English sentences, no user content). */
  readonly warning: string | null;
  readonly suggestions: readonly string[];
}

let factory: ZxcvbnFactory | undefined;

/** Rates a passphrase with zxcvbn (common and English dictionaries, keyboard patterns). */
export function checkPassphraseStrength(passphrase: string): PassphraseStrength {
  factory ??= new ZxcvbnFactory({
    translations: english.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...english.dictionary },
  });
  const result = factory.check(passphrase);
  return {
    score: result.score,
    acceptable: result.score >= MIN_PASSPHRASE_SCORE,
    warning: result.feedback.warning || null,
    suggestions: result.feedback.suggestions,
  };
}

/** Throws WEAK_PASSPHRASE unless the passphrase scores at least MIN_PASSPHRASE_SCORE. */
export function assertStrongPassphrase(passphrase: string): void {
  if (!checkPassphraseStrength(passphrase).acceptable) throw new SottoError('WEAK_PASSPHRASE');
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const GROUPS = 6;
const GROUP_CHARS = 5;

/**
 * A generated recovery key: 30 random base32 characters (150 bits) in six
 * groups of five, e.g. `K7QF2-MZ4XA-…`. Shown once; the user writes it down.
 * It is used exactly as typed, dashes included (so the `age` CLI accepts it
 * too); `normalizeRecoveryKey` repairs case and spacing before use.
 */
export function generateRecoveryKey(): string {
  const groups: string[] = [];
  const bytes = randomBytes(GROUPS * GROUP_CHARS);
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_CHARS; i++) group += BASE32[bytes[g * GROUP_CHARS + i]! & 31];
    groups.push(group);
  }
  return groups.join('-');
}

const RECOVERY_KEY = new RegExp(`^[${BASE32}]{${GROUP_CHARS}}(-[${BASE32}]{${GROUP_CHARS}}){${GROUPS - 1}}$`);

/**
 * If `input` is a recovery key typed loosely (lower case, spaces or no
 * separators), its canonical form; otherwise `input` unchanged.
 */
export function normalizeRecoveryKey(input: string): string {
  const compact = input.toUpperCase().replace(/[\s-]/g, '');
  if (compact.length !== GROUPS * GROUP_CHARS || /[^A-Z2-7]/.test(compact)) return input;
  const canonical = compact.match(new RegExp(`.{${GROUP_CHARS}}`, 'g'))!.join('-');
  return RECOVERY_KEY.test(canonical) ? canonical : input;
}
