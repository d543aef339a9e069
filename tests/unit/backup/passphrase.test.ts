import { describe, expect, it } from 'vitest';
import {
  checkPassphraseStrength,
  generateRecoveryKey,
  MIN_PASSPHRASE_SCORE,
  normalizeRecoveryKey,
} from '../../../electron/core/backup/passphrase.ts';

describe('backup passphrases', () => {
  it('a recovery key is six groups of five base32 characters, different every time, and strong', () => {
    const keys = new Set(Array.from({ length: 50 }, () => generateRecoveryKey()));
    expect(keys.size).toBe(50);
    for (const key of keys) expect(key).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){5}$/);
    expect(checkPassphraseStrength([...keys][0]!).score).toBe(4);
  });

  it('a recovery key typed in lower case, with spaces or without dashes, is understood; anything else is left alone', () => {
    const key = generateRecoveryKey();
    expect(normalizeRecoveryKey(key.toLowerCase())).toBe(key);
    expect(normalizeRecoveryKey(key.replaceAll('-', ' '))).toBe(key);
    expect(normalizeRecoveryKey(key.replaceAll('-', ''))).toBe(key);
    expect(normalizeRecoveryKey('my own passphrase here')).toBe('my own passphrase here');
  });

  it('common and short passphrases are not acceptable; a long unusual one is, with advice when it is not', () => {
    for (const weak of ['password', 'letmein123', 'qwertyuiop', 'sotto']) {
      const strength = checkPassphraseStrength(weak);
      expect(strength.acceptable, weak).toBe(false);
      expect(strength.score).toBeLessThan(MIN_PASSPHRASE_SCORE);
    }
    expect(checkPassphraseStrength('quiet harbour lanterns 1987 orbit').acceptable).toBe(true);
    expect(
      checkPassphraseStrength('password').suggestions.length +
        (checkPassphraseStrength('password').warning ? 1 : 0),
    ).toBeGreaterThan(0);
  });
});
