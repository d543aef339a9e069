import { describe, expect, it } from 'vitest';
import {
  checkPassphraseStrength,
  generateRecoveryKey,
  MIN_PASSPHRASE_SCORE,
  normalizeRecoveryKey,
} from '../../../electron/core/backup/passphrase.ts';

describe('backup passphrases', () => {
  it('a recovery key is six groups of five base32 characters, different every time, and strong', async () => {
    const keys = new Set(Array.from({ length: 50 }, () => generateRecoveryKey()));
    expect(keys.size).toBe(50);
    for (const key of keys) expect(key).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){5}$/);
    expect((await checkPassphraseStrength([...keys][0]!)).score).toBe(4);
  });

  it('a recovery key typed in lower case, with spaces or without dashes, is understood; anything else is left alone', () => {
    const key = generateRecoveryKey();
    expect(normalizeRecoveryKey(key.toLowerCase())).toBe(key);
    expect(normalizeRecoveryKey(key.replaceAll('-', ' '))).toBe(key);
    expect(normalizeRecoveryKey(key.replaceAll('-', ''))).toBe(key);
    expect(normalizeRecoveryKey('my own passphrase here')).toBe('my own passphrase here');
  });

  it('common and short passphrases are not acceptable; a long unusual one is, with advice when it is not', async () => {
    for (const weak of ['password', 'letmein123', 'qwertyuiop', 'sotto']) {
      const strength = await checkPassphraseStrength(weak);
      expect(strength.acceptable, weak).toBe(false);
      expect(strength.score).toBeLessThan(MIN_PASSPHRASE_SCORE);
    }
    expect((await checkPassphraseStrength('quiet harbour lanterns 1987 orbit')).acceptable).toBe(
      true,
    );
    const advice = await checkPassphraseStrength('password');
    expect(advice.suggestions.length + (advice.warning ? 1 : 0)).toBeGreaterThan(0);
  });
});
