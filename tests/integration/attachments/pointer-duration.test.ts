import { describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import {
  pointerOf,
  selectAttachments,
} from '../../../electron/core/attachments/attachment-rows.ts';
import type { Profile } from '../../../electron/core/index.ts';
import { attachmentSummarySchema } from '../../../shared/ipc/attachments.ts';
import { MAX_ATTACHMENT_BYTES, MAX_DURATION_MS } from '../../../shared/protocol/attachment.ts';
import { introduce, newProfile } from '../../support/profiles.ts';
import { pointer, sendRaw } from '../../support/raw-pointer.ts';

// A pointer's optional durationMs, step 1 of the two-release path
// (docs/message-format.md#attachments): a receiver stores and shows a valid
// one; a hostile one refuses the whole message exactly as any other malformed
// pointer does (an oversized one here), and this client's own pointers still
// leave it out.

const count = (profile: Profile, table: string) =>
  Number(profile.db.prepare(`SELECT count(*) FROM ${table}`, { pluck: true }).get());

async function pair() {
  const { profile: alice } = await newProfile('Alice');
  const { profile: bob } = await newProfile('Bob');
  await introduce(alice, bob);
  return { alice, bob };
}

describe('a pointer’s durationMs', () => {
  it('a valid one (1 ms to 24 h) is stored and shown in the attachment summary; none is null', async () => {
    const { alice, bob } = await pair();
    for (const durationMs of [1, 95_250, MAX_DURATION_MS])
      expect((await sendRaw(alice, bob, pointer({ durationMs }))).map((o) => o.outcome)).toEqual([
        'stored',
      ]);
    expect((await sendRaw(alice, bob, pointer({}))).map((o) => o.outcome)).toEqual(['stored']);
    const messageIds = bob.db
      .prepare('SELECT id FROM messages ORDER BY id', { pluck: true })
      .all<number>();
    const summaries = attachmentsOf(bob, { messageIds });
    expect(summaries.map((a) => a.durationMs)).toEqual([1, 95_250, MAX_DURATION_MS, null]);
    // The IPC contract carries it as is (history --json prints the same summaries).
    for (const summary of summaries)
      expect(attachmentSummarySchema.parse(summary).durationMs).toBe(summary.durationMs);
  });

  it.each([
    ['negative', -1],
    ['zero', 0],
    ['fractional', 1.5],
    ['over 24 h', MAX_DURATION_MS + 1],
    ['huge', 1e300],
    ['string', '3000'],
    ['null (what JSON makes of NaN)', null],
  ])(
    'a hostile one (%s) refuses the whole message as an oversized pointer does',
    async (_, durationMs) => {
      const { alice, bob } = await pair();
      const oversized = await sendRaw(alice, bob, pointer({ size: MAX_ATTACHMENT_BYTES + 1 }));
      const hostile = await sendRaw(alice, bob, pointer({ durationMs }));
      const shape = (o: (typeof hostile)[number]) => ({
        outcome: o.outcome,
        error: 'error' in o ? o.error : undefined,
      });
      expect(hostile.map(shape)).toEqual(oversized.map(shape));
      expect(hostile.map(shape)).toEqual([{ outcome: 'retry', error: 'BAD_CONTENT' }]);
      expect([count(bob, 'messages'), count(bob, 'attachments')]).toEqual([0, 0]);
    },
  );

  it('this release’s senders still leave it out of their pointers', async () => {
    const { alice, bob } = await pair();
    await sendRaw(alice, bob, pointer({ durationMs: 4_000 }));
    const row = selectAttachments(bob.db, '1 = 1')[0]!;
    expect(row.durationMs).toBe(4_000);
    expect(pointerOf(row)).not.toHaveProperty('durationMs');
  });
});
