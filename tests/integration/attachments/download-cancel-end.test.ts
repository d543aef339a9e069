import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { APP_DOWNLOAD_POLICY } from '../../../electron/core/attachments/download-policy.ts';
import { downloadAttachments } from '../../../electron/core/attachments/download-job.ts';
import {
  cancelTransfer,
  requestDownload,
} from '../../../electron/core/attachments/transfer-control.ts';
import { onTransfers } from '../../../electron/core/attachments/transfers.ts';
import { findContact } from '../../../electron/core/index.ts';
import { blobDownloads } from '../../../electron/core/sync/blob-transport.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { befriend, type EnginePerson, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// A download decrypts and seals its stored copy while the bytes arrive
// (download-job.ts), and the copy becomes the row's only after the check
// passed, the copy was flushed and a last look at the Cancel: a cancel that
// comes once every byte is in and checked (the moment the transfer reports
// its end) still cancels. Nothing is kept, neither the temp file nor the
// staged copy, and a later click downloads the whole file again. Also when
// the whole blob was already in the temp file (a crash after the last byte):
// then the entire pass is the local re-encryption.

const SIZE = 3 * 1024 * 1024 + 77;
const RULES = { policy: { ...APP_DOWNLOAD_POLICY, imagesUpToMb: 0 }, network: 'unknown' } as const;

/** Alice sends Bob one file that his policy holds until a click; returns its id. */
async function held(): Promise<{ bob: EnginePerson; id: number; relay: string }> {
  const relay = join(tempDir(), 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  bob.engine.downloadRules = () => RULES;
  await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
    { path: testFile(tempDir(), 'clip.bin', SIZE) },
  ]);
  await alice.engine.sendOutbox();
  await bob.engine.receive({ firstWaitMs: 2_000 });
  const id = bob.profile.db
    .prepare("SELECT id FROM attachments WHERE state = 'pending'", { pluck: true })
    .get<number>()!;
  return { bob, id, relay };
}

const scopeOf = (bob: EnginePerson) => ({
  conversationId: findContact(bob.profile.db, 'Alice').conversationId,
});

/** A download pass in which the user cancels as soon as the transfer reports its end. */
async function passCancelledAtEnd(bob: EnginePerson, id: number) {
  const scope = scopeOf(bob);
  let cancelledAt = -1;
  const stop = onTransfers(bob.profile, {
    progress: (p) => {
      if (p.attachmentId !== id || p.done !== p.total || cancelledAt >= 0) return;
      cancelledAt = p.done;
      expect(cancelTransfer(bob.profile, scope, id)).toBe(true);
    },
  });
  try {
    const report = await downloadAttachments(
      bob.profile,
      (address, relayId) => blobDownloads(bob.profile, address, relayId),
      RULES,
    );
    return { report, cancelledAt };
  } finally {
    stop();
  }
}

function expectNothingKept(bob: EnginePerson, id: number): void {
  const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
  const [a] = attachmentsOf(bob.profile, { messageIds: ids }, RULES);
  expect(a).toMatchObject({ id, state: 'pending', waiting: true, error: null });
  expect(readdirSync(join(bob.dir, 'attachments', 'tmp'))).toEqual([]);
  expect(readdirSync(join(bob.dir, 'attachments')).filter((n) => n !== 'tmp')).toEqual([]);
}

async function expectClickCompletes(bob: EnginePerson, id: number): Promise<void> {
  expect(requestDownload(bob.profile, scopeOf(bob), id)).toBe(true);
  const report = await downloadAttachments(
    bob.profile,
    (address, relayId) => blobDownloads(bob.profile, address, relayId),
    RULES,
  );
  expect(report).toEqual({ downloaded: 1, failed: 0, waiting: 0 });
  const out = join(tempDir(), 'saved');
  await saveAttachment(bob.profile, id, out);
  expect(readFileSync(out).equals(testBytes(SIZE, 'clip.bin'))).toBe(true);
}

/** The click, the cancel at the end (nothing kept), then the click again (the whole file). */
async function cancelledAtEndThenClicked(bob: EnginePerson, id: number): Promise<void> {
  expect(requestDownload(bob.profile, scopeOf(bob), id)).toBe(true);
  const { report, cancelledAt } = await passCancelledAtEnd(bob, id);
  expect(cancelledAt).toBeGreaterThan(SIZE);
  expect(report).toEqual({ downloaded: 0, failed: 0, waiting: 0 });
  expectNothingKept(bob, id);
  await expectClickCompletes(bob, id);
}

describe('a cancel once every byte is in still cancels the download', () => {
  it('while the download ends: declined, no temp file, no stored copy; a click completes it', async () => {
    const { bob, id } = await held();
    await cancelledAtEndThenClicked(bob, id);
  });

  it('while a complete temp file is re-encrypted (resume after a crash): the same', async () => {
    const { bob, id, relay } = await held();
    const blobId = bob.profile.db
      .prepare('SELECT blob_id FROM attachments WHERE id = ?', { pluck: true })
      .get<string>([id])!;
    // The whole blob already downloaded by a pass that died before its commit.
    mkdirSync(join(bob.dir, 'attachments', 'tmp'), { recursive: true });
    writeFileSync(
      join(bob.dir, 'attachments', 'tmp', 'resume.down'),
      readFileSync(join(relay, 'blobs', `${blobId}.data`)),
    );
    bob.profile.db.prepare("UPDATE attachments SET temp_name = 'resume.down'").run();
    await cancelledAtEndThenClicked(bob, id);
  });
});
