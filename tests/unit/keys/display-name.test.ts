import { describe, expect, it } from 'vitest';
import { normalizeDisplayName } from '../../../electron/core/profile/display-name.ts';
import { contentSchema, MAX_NAME_CHARS } from '../../../shared/protocol/content.ts';
import { thrownCode } from '../../support/errors.ts';

// The one display-name rule: whatever it accepts, every later message can carry.

const textWithName = (name: string) => ({
  v: 1,
  type: 'text',
  id: '00000000-0000-4000-8000-000000000000',
  sentAt: 1,
  body: 'hi',
  name,
});

describe('display names', () => {
  it('trims and NFC-normalizes what it keeps', () => {
    expect(normalizeDisplayName('  Ann  ')).toBe('Ann');
    expect(normalizeDisplayName('Zoe\u0308')).toBe('Zoë'); // combining diaeresis → one code point
  });

  it(`accepts ${MAX_NAME_CHARS} characters, refuses ${MAX_NAME_CHARS + 1} and empty names with INVALID_NAME`, () => {
    const longest = 'n'.repeat(MAX_NAME_CHARS);
    expect(normalizeDisplayName(longest)).toBe(longest);
    expect(contentSchema.safeParse(textWithName(longest)).success).toBe(true);
    for (const bad of ['n'.repeat(MAX_NAME_CHARS + 1), 'x'.repeat(200), '', '   ', '\t\n']) {
      expect(thrownCode(() => normalizeDisplayName(bad))).toBe('INVALID_NAME');
    }
  });

  it('counts as the message schema counts (UTF-16 units): what passes here always fits a message', () => {
    const emoji = '😀'.repeat(MAX_NAME_CHARS / 2);
    expect(contentSchema.safeParse(textWithName(normalizeDisplayName(emoji))).success).toBe(true);
    expect(thrownCode(() => normalizeDisplayName(`${emoji}😀`))).toBe('INVALID_NAME');
  });

  it('refuses control characters, bidi overrides and lone surrogates (hostile names)', () => {
    for (const hostile of [
      'Ann\nsotto: WRONG_PASSPHRASE',
      'Bob\u0000',
      'Eve\u202egnp.exe',
      'Mal\u2066lory',
      'a\u0085b',
      'x\ud800y',
      '\udc00z',
      'esc\u001b[2J',
    ]) {
      expect(thrownCode(() => normalizeDisplayName(hostile))).toBe('INVALID_NAME');
    }
    expect(normalizeDisplayName('李小龍 😀 Ann-Marie O’Neil')).toBe('李小龍 😀 Ann-Marie O’Neil');
  });
});
