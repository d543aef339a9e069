import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../../electron/core/messaging/message-id.ts';
import { contentSchema } from '../../../shared/protocol/content.ts';

describe('message ids', () => {
  it('are RFC 9562 UUIDv7: version 7, variant 10, the time in the first 48 bits', () => {
    const id = newMessageId(0x0123_4567_89ab);
    expect(id).toMatch(/^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sort in time order and are unique within a millisecond', () => {
    const ids = [newMessageId(1000), newMessageId(2000), newMessageId(3000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 1000 }, () => newMessageId(5000))).size).toBe(1000);
  });

  it('are accepted by the content schema', () => {
    expect(
      contentSchema.safeParse({ v: 1, type: 'text', id: newMessageId(), sentAt: 1, body: 'x' })
        .success,
    ).toBe(true);
  });
});
