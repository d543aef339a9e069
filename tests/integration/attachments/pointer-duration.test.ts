import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import {
  pointerOf,
  selectAttachments,
} from '../../../electron/core/attachments/attachment-rows.ts';
import { processEnvelopes, type Profile } from '../../../electron/core/index.ts';
import { attachmentSummarySchema } from '../../../shared/ipc/attachments.ts';
import { MAX_ATTACHMENT_BYTES, MAX_DURATION_MS } from '../../../shared/protocol/attachment.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';

// A pointer's optional durationMs, step 1 of the two-release path
// (docs/message-format.md#attachments): a receiver stores and shows a valid
// one; a hostile one refuses the whole message exactly as any other malformed
// pointer does (an oversized one here), and this client's own pointers still
// leave it out.

const pointer = (patch: Record<string, unknown>) => ({
  blobId: 'A'.repeat(22),
  key: toBase64(new Uint8Array(64).fill(1)),
  digest: toBase64(new Uint8Array(32).fill(2)),
  size: 90_000,
  contentType: 'video/mp4',
  width: 320,
  height: 180,
  ...patch,
});

/** Alice's device sends content it would never encode (a hostile or newer client writes the JSON). */
async function sendRaw(alice: Profile, bob: Profile, attachment: Record<string, unknown>) {
  const bytes = Buffer.from(
    JSON.stringify({
      v: 1,
      type: 'text',
      id: randomUUID(),
      sentAt: Date.now(),
      body: 'a clip',
      attachments: [attachment],
    }),
    'utf8',
  );
  const payload = new Uint8Array(Math.ceil((bytes.length + 1) / 160) * 160);
  payload.set(bytes);
  payload[bytes.length] = 0x80;
  alice.commit(undefined, (db) =>
    db
      .prepare(
        `INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, next_attempt_at, created_at)
         VALUES ('message', NULL, ?, ?, 1, ?, 0, ?)`,
      )
      .run([randomUUID(), bob.account.accountId, payload, Date.now()]),
  );
  return processEnvelopes(bob, await flushOutbox(alice));
}

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
