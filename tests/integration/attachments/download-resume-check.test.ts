import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { DOWNLOAD_EVERYTHING } from '../../../electron/core/attachments/download-policy.ts';
import { downloadAttachments } from '../../../electron/core/attachments/download-job.ts';
import { blobDownloads } from '../../../electron/core/sync/blob-transport.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// A download is checked as it arrives (BlobCheck in download-job.ts), so a
// resumed one hashes the prefix it already holds before the rest: a prefix
// altered on disk between passes fails the check like any tampered blob,
// and a temp file that is already complete (a crash after the last byte,
// before the commit) is checked and stored without asking the relay again.

const SIZE = 3 * 1024 * 1024 + 5;

/** Bob holds Alice's message with one pending attachment whose temp file is `temp` (bytes of the blob). */
async function pendingWith(temp: (blob: Buffer) => Buffer) {
  const relay = join(tempDir(), 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
    { path: testFile(tempDir(), 'clip.bin', SIZE) },
  ]);
  await alice.engine.sendOutbox();
  await bob.engine.receive({ firstWaitMs: 200 });
  const blobId = bob.profile.db
    .prepare('SELECT blob_id FROM attachments', { pluck: true })
    .get<string>()!;
  const dataPath = join(relay, 'blobs', `${blobId}.data`);
  // Back to before the download: the stored copy the first pass made goes with its row's names.
  const stored = bob.profile.db
    .prepare('SELECT local_name FROM attachments', { pluck: true })
    .get<string>()!;
  rmSync(join(bob.dir, 'attachments', stored));
  writeFileSync(join(bob.dir, 'attachments', 'tmp', 'resume.down'), temp(readFileSync(dataPath)));
  bob.profile.db
    .prepare(
      "UPDATE attachments SET state = 'pending', temp_name = 'resume.down', local_name = NULL, local_key = NULL, local_digest = NULL",
    )
    .run();
  const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
  const pass = () =>
    downloadAttachments(
      bob.profile,
      (address, relayId) => blobDownloads(bob.profile, address, relayId),
      { policy: DOWNLOAD_EVERYTHING, network: 'unknown' },
    );
  return { bob, dataPath, ids, pass };
}

describe('a resumed download is checked over the prefix it held', () => {
  it('an intact prefix: the rest is fetched, the file saves byte-identical', async () => {
    const { bob, ids, pass } = await pendingWith((blob) => blob.subarray(0, 1024 * 1024 + 3));
    expect(await pass()).toEqual({ downloaded: 1, failed: 0, waiting: 0 });
    const [a] = attachmentsOf(bob.profile, { messageIds: ids });
    const out = join(tempDir(), 'saved');
    await saveAttachment(bob.profile, a!.id, out);
    expect(readFileSync(out).equals(testBytes(SIZE, 'clip.bin'))).toBe(true);
  });

  it('a prefix altered on disk between passes: ATTACHMENT_TAMPERED, nothing stored or kept', async () => {
    const { bob, ids, pass } = await pendingWith((blob) => {
      const prefix = Buffer.from(blob.subarray(0, 2 * 1024 * 1024));
      prefix[1_500_000]! ^= 0x01;
      return prefix;
    });
    expect(await pass()).toEqual({ downloaded: 0, failed: 1, waiting: 0 });
    expect(attachmentsOf(bob.profile, { messageIds: ids }).map((a) => a.state)).toEqual(['failed']);
    expect(bob.profile.db.prepare('SELECT error FROM attachments', { pluck: true }).get()).toBe(
      'ATTACHMENT_TAMPERED',
    );
    expect(readdirSync(join(bob.dir, 'attachments', 'tmp'))).toEqual([]);
    expect(readdirSync(join(bob.dir, 'attachments')).filter((n) => n !== 'tmp')).toEqual([]);
  });

  it('a complete temp file is checked and stored without the relay (the blob is gone there)', async () => {
    const { bob, dataPath, ids, pass } = await pendingWith((blob) => blob);
    rmSync(dataPath);
    expect(await pass()).toEqual({ downloaded: 1, failed: 0, waiting: 0 });
    expect(attachmentsOf(bob.profile, { messageIds: ids }).map((a) => a.state)).toEqual(['done']);
  });

  it('a complete temp file with its last MAC byte altered: ATTACHMENT_TAMPERED', async () => {
    const { bob, ids, pass } = await pendingWith((blob) => {
      const copy = Buffer.from(blob);
      copy[copy.length - 1]! ^= 0x80;
      return copy;
    });
    expect(await pass()).toEqual({ downloaded: 0, failed: 1, waiting: 0 });
    expect(attachmentsOf(bob.profile, { messageIds: ids }).map((a) => a.state)).toEqual(['failed']);
  });
});
