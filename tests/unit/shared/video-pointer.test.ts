import { describe, expect, it } from 'vitest';
import { sentVisualSchema } from '../../../shared/ipc/attachment-picks.ts';
import { decodeContent, encodeContent } from '../../../shared/protocol/content.ts';

// A video's pointer (docs/message-format.md#attachments): the same width,
// height and preview fields as an image's, and an optional duration that this
// version accepts but does not send. The pointer is a strict object, so a
// field a receiver does not know fails the whole content (BAD_CONTENT, the
// message is never stored): receivers before this version refuse a duration,
// which is why senders add it only in the next release.

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(200, 9)]).toString(
  'base64',
);
const video = {
  blobId: 'B'.repeat(22),
  key: Buffer.alloc(64, 1).toString('base64'),
  digest: Buffer.alloc(32, 2).toString('base64'),
  size: 90_000,
  contentType: 'video/webm',
  width: 320,
  height: 180,
  preview: JPEG,
};
const text = (pointer: Record<string, unknown>) => ({
  v: 1,
  type: 'text',
  id: '7f9c2ba4-e88f-4e0a-9c6b-0b6f3f0c2a11',
  sentAt: 1_700_000_000_000,
  body: 'the ridge at dusk',
  attachments: [pointer],
});

/** The padded bytes a hostile sender writes by hand (this client would not encode them). */
function padded(content: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(content));
  const bytes = new Uint8Array(Math.ceil((json.length + 1) / 160) * 160);
  bytes.set(json);
  bytes[json.length] = 0x80;
  return bytes;
}

describe("a video's pointer", () => {
  it('carries width, height and preview like an image, or none of them', () => {
    const withPoster = text(video);
    expect(decodeContent(encodeContent(withPoster as never))).toEqual(withPoster);
    const bare = { ...video } as Partial<typeof video>;
    delete bare.width;
    delete bare.height;
    delete bare.preview;
    expect(decodeContent(padded(text(bare)))).toEqual(text(bare));
  });

  it('with a plausible duration (whole ms, at most 24 h) decodes with it', () => {
    for (const d of [1, 3_000, 86_400_000])
      expect(decodeContent(padded(text({ ...video, durationMs: d })))).toEqual(
        text({ ...video, durationMs: d }),
      );
  });

  it('the same rule holds in a group message (one pointer schema)', () => {
    const group = (durationMs: unknown) => ({
      v: 1,
      type: 'group-text',
      groupId: Buffer.alloc(32, 7).toString('base64'),
      id: '7f9c2ba4-e88f-4e0a-9c6b-0b6f3f0c2a12',
      sentAt: 1_700_000_000_000,
      body: '',
      attachments: [{ ...video, durationMs }],
    });
    expect(decodeContent(padded(group(12_000)))).toEqual(group(12_000));
    for (const bad of [0, -5, 1.25, 86_400_001, '12 s', null])
      expect(() => decodeContent(padded(group(bad)))).toThrow();
  });

  it.each([
    ['a negative one', -1],
    ['zero', 0],
    ['a fractional one', 2.5],
    ['NaN (JSON null)', Number.NaN],
    ['one over 24 h', 86_400_001],
    ['a huge one', 1e300],
    ['a string', '3 s'],
  ])('with a hostile duration (%s) fails the whole content: never half-read', (_, d) => {
    expect(() => decodeContent(padded(text({ ...video, durationMs: d })))).toThrow();
  });

  it.each([
    ['zero width', { width: 0 }],
    ['a width over 65,535', { width: 65_536 }],
    ['a fractional height', { height: 180.5 }],
    ['a negative height', { height: -180 }],
    ['a width as a string', { width: '320' }],
    ['a preview over 4 KiB', { preview: 'A'.repeat(5_468) }],
    ['a preview that is not base64', { preview: 'not base64!' }],
  ])('with hostile dimensions or preview (%s) fails the whole content', (_, patch) => {
    expect(() => decodeContent(padded(text({ ...video, ...patch })))).toThrow();
  });

  it("the renderer's measured visual may not carry a duration either", () => {
    const visual = { width: 320, height: 180, preview: JPEG };
    expect(sentVisualSchema.safeParse(visual).success).toBe(true);
    expect(sentVisualSchema.safeParse({ ...visual, durationMs: 3_000 }).success).toBe(false);
    expect(sentVisualSchema.safeParse({ ...visual, width: Number.NaN }).success).toBe(false);
    expect(sentVisualSchema.safeParse({ ...visual, height: Infinity }).success).toBe(false);
  });
});
