import { randomUUID } from 'node:crypto';
import { processEnvelopes, type Profile } from '../../electron/core/index.ts';
import { toBase64 } from '../../shared/protocol/encoding.ts';
import { flushOutbox } from './profiles.ts';

// Attachment pointers this client would never write (a hostile or newer
// client's JSON), delivered through the real receive pipeline.

/** A well-formed video pointer with `patch` applied (its blob does not exist). */
export const pointer = (patch: Record<string, unknown>) => ({
  blobId: 'A'.repeat(22),
  key: toBase64(new Uint8Array(64).fill(1)),
  digest: toBase64(new Uint8Array(32).fill(2)),
  size: 90_000,
  contentType: 'video/mp4',
  width: 320,
  height: 180,
  ...patch,
});

/** Alice's device sends Bob a text with `attachment` as written, sealed and processed by Bob. */
export async function sendRaw(alice: Profile, bob: Profile, attachment: Record<string, unknown>) {
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
