import { randomBytes } from 'node:crypto';

// A backup sits wherever the user puts it, so its passphrase must resist an
// offline guessing attack: scrypt slows each guess, the passphrase's entropy
// does the rest. Either the user's own, checked by the one passphrase rule
// (keys/passphrase-policy.ts, the same as for the profile), or a generated
// recovery key.

export {
  assertStrongPassphrase,
  checkPassphraseStrength,
  MIN_PASSPHRASE_SCORE,
  type PassphraseStrength,
} from '../keys/passphrase-policy.ts';

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

const RECOVERY_KEY = new RegExp(
  `^[${BASE32}]{${GROUP_CHARS}}(-[${BASE32}]{${GROUP_CHARS}}){${GROUPS - 1}}$`,
);

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
