import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent } from '../../../shared/protocol/content.ts';

const text = {
  v: 1,
  type: 'text',
  id: '7f9c2ba4-e88f-4e0a-9c6b-0b6f3f0c2a11',
  sentAt: 1_700_000_000_000,
  body: 'hi 你好',
} as const;

describe('message content encoding', () => {
  it('round-trips and pads to a multiple of 160 bytes', () => {
    const encoded = encodeContent(text);
    expect(encoded.length % 160).toBe(0);
    expect(decodeContent(encoded)).toEqual(text);
  });

  it('hides the exact length: bodies of 1 and 40 characters encode to the same size', () => {
    expect(encodeContent({ ...text, body: 'a' }).length).toBe(
      encodeContent({ ...text, body: 'a'.repeat(40) }).length,
    );
  });

  it('rejects missing padding, bad JSON and unknown types', () => {
    const encoded = encodeContent(text);
    expect(() => decodeContent(encoded.subarray(0, 20))).toThrow();
    expect(() => decodeContent(new Uint8Array([0x7b, 0x80]))).toThrow();
    const unknown = new TextEncoder().encode(JSON.stringify({ ...text, type: 'sticker' }));
    expect(() => decodeContent(Uint8Array.from([...unknown, 0x80]))).toThrow();
  });
});
