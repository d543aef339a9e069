import { describe, expect, it } from 'vitest';
import { fromBase64, toBase32, toBase64 } from '../../../shared/protocol/encoding.ts';

describe('encodings', () => {
  it('base32 matches the RFC 4648 test vectors (lowercase, unpadded)', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'my'],
      ['fo', 'mzxq'],
      ['foo', 'mzxw6'],
      ['foob', 'mzxw6yq'],
      ['fooba', 'mzxw6ytb'],
      ['foobar', 'mzxw6ytboi'],
    ];
    for (const [input, expected] of vectors)
      expect(toBase32(new TextEncoder().encode(input))).toBe(expected);
  });

  it('base64 round-trips all byte values and agrees with Node', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    expect(fromBase64(toBase64(bytes))).toEqual(bytes);
  });
});

describe('padded base64 pattern', () => {
  it('accepts padded base64 and rejects unpadded or stray characters', async () => {
    const { PADDED_BASE64 } = await import('../../../shared/protocol/encoding.ts');
    for (const ok of ['', 'YQ==', 'YWI=', 'YWJj', Buffer.from('any bytes!').toString('base64')])
      expect(PADDED_BASE64.test(ok)).toBe(true);
    for (const bad of ['YQ', 'YWI', 'YW=j', 'YWJj=', 'YW J'])
      expect(PADDED_BASE64.test(bad)).toBe(false);
  });
});
