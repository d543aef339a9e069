import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { attachmentsOf, saveAttachment } from '../../electron/core/attachments/attachment-files.ts';
import { queueGroupAttachmentMessage } from '../../electron/core/attachments/compose-group.ts';
import { uploadAttachments } from '../../electron/core/attachments/upload-job.ts';
import type { Person } from './group-world.ts';
import { testBytes, testFile } from './attachment-relays.ts';
import { tempDir } from './profiles.ts';

// A group message whose file uploaded but whose fan-out the relay kept
// refusing, as the send pass leaves it (the tests of Retry start here).

/** Size of the file `refusedAfterUpload` sends. */
export const REFUSED_FILE_SIZE = 30_000;

/**
 * Alice's group message with one file (`<caption>.pdf`), uploaded; then its
 * fan-out given up: the message failed, no outbox row. Returns its id.
 */
export async function refusedAfterUpload(
  alice: Person,
  groupId: string,
  caption: string,
): Promise<number> {
  const queued = await queueGroupAttachmentMessage(
    alice.profile,
    groupId,
    [{ path: testFile(tempDir(), `${caption}.pdf`, REFUSED_FILE_SIZE) }],
    caption,
  );
  await uploadAttachments(alice.profile, () => alice.engine.pool.homeBlobs());
  expect(attachmentsOf(alice.profile, { groupMessageIds: [queued.id] })[0]?.state).toBe('uploaded');
  alice.profile.commit(undefined, (db) => {
    db.prepare('DELETE FROM group_outbox WHERE message_id = ?').run([queued.id]);
    db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([queued.id]);
  });
  return queued.id;
}

/** One number `sql` selects from `p`'s database. */
export const count = (p: Person, sql: string, params: (string | number)[] = []) =>
  Number(p.profile.db.prepare(sql, { pluck: true }).get(params));

/** How many group messages `p` has with this body. */
export const copies = (p: Person, caption: string) =>
  count(p, 'SELECT count(*) FROM group_messages WHERE body = ?', [caption]);

/** How many files of REFUSED_FILE_SIZE `p` has stored. */
export const storedFiles = (p: Person) =>
  count(p, "SELECT count(*) FROM attachments WHERE size = ? AND state = 'done'", [
    REFUSED_FILE_SIZE,
  ]);

/** What names the blob of group message `groupMessageId`'s file: id, key, digest, whether re-derivable. */
export const blobRow = (p: Person, groupMessageId: number) =>
  p.profile.db
    .prepare(
      'SELECT blob_id, transport_key, digest, blob_rederivable FROM attachments WHERE group_message_id = ?',
    )
    .get<{
      blob_id: string;
      transport_key: Uint8Array<ArrayBuffer>;
      digest: Uint8Array<ArrayBuffer>;
      blob_rederivable: number;
    }>([groupMessageId])!;

/** The member's received copy of `<caption>.pdf` saved and compared with what was sent. */
export async function savedMatches(p: Person, caption: string): Promise<boolean> {
  const id = count(
    p,
    `SELECT a.id FROM attachments a JOIN group_messages m ON m.id = a.group_message_id
     WHERE m.body = ?`,
    [caption],
  );
  const out = join(tempDir(), `${p.name}-${caption}.out`);
  await saveAttachment(p.profile, id, out);
  return readFileSync(out).equals(testBytes(REFUSED_FILE_SIZE, `${caption}.pdf`));
}

/** What the relay's TTL does to a blob of the folder relay at `relay`: its expiry passed (deleted when next asked). */
export function expireBlob(relay: string, blobId: string): void {
  const meta = join(relay, 'blobs', `${blobId}.json`);
  writeFileSync(meta, JSON.stringify({ ...JSON.parse(readFileSync(meta, 'utf8')), expiresAt: 1 }));
}
