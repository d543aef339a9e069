import { expect } from 'vitest';
import { attachmentsOf } from '../../electron/core/attachments/attachment-files.ts';
import { queueGroupAttachmentMessage } from '../../electron/core/attachments/compose-group.ts';
import { uploadAttachments } from '../../electron/core/attachments/upload-job.ts';
import type { Person } from './group-world.ts';
import { testFile } from './attachment-relays.ts';
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
