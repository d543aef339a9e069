import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import {
  APP_DOWNLOAD_POLICY,
  type DownloadRules,
  type Network,
} from '../../../electron/core/attachments/download-policy.ts';
import {
  downloadAttachments,
  type DownloadsFor,
} from '../../../electron/core/attachments/download-job.ts';
import { runDownloads } from '../../../electron/core/attachments/jobs.ts';
import { uploadAttachments } from '../../../electron/core/attachments/upload-job.ts';
import { blobDownloads } from '../../../electron/core/sync/blob-transport.ts';
import type { BlobUploads } from '../../../electron/core/sync/blobs.ts';
import {
  cancelTransfer,
  requestDownload,
  retryCancelledUpload,
} from '../../../electron/core/attachments/transfer-control.ts';
import {
  onTransfers,
  PROGRESS_INTERVAL_MS,
  type TransferProgress,
} from '../../../electron/core/attachments/transfers.ts';
import { findContact, getMessage, type Profile } from '../../../electron/core/index.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import {
  befriend,
  type EnginePerson,
  enginePerson,
  relayProcessForTest,
} from '../../support/engines.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// The user's control over transfers, in the core, between two engines on a
// sotto-relay process: the auto-download policy (size, type, metered), the
// Download click, Cancel of a download and of an upload, and the progress
// the jobs report. Hostile calls: unknown ids, another conversation's ids,
// repeated clicks, cancels of what is not running.

interface World {
  alice: EnginePerson;
  bob: EnginePerson;
  /** Bob's view of Alice's conversation. */
  fromAlice: { conversationId: number };
  /** Alice's view of Bob's conversation. */
  toBob: { conversationId: number };
  relayUrl: string;
  setNetwork(network: Network): void;
  rules: () => DownloadRules;
}

/** Bob runs the desktop app's default policy (images up to 1 MB here), Alice the CLI's. */
async function world(imagesUpToMb = 1): Promise<World> {
  const { relay } = await relayProcessForTest();
  const alice = await enginePerson('Alice', relay.url);
  const bob = await enginePerson('Bob', relay.url);
  befriend(alice, bob);
  let network: Network = 'unknown';
  const rules = () => ({ policy: { ...APP_DOWNLOAD_POLICY, imagesUpToMb }, network });
  bob.engine.downloadRules = rules;
  return {
    alice,
    bob,
    fromAlice: { conversationId: findContact(bob.profile.db, 'Alice').conversationId },
    toBob: { conversationId: findContact(alice.profile.db, 'Bob').conversationId },
    relayUrl: relay.url,
    setNetwork: (next) => (network = next),
    rules,
  };
}

/** Alice sends files (name, size) in one message; Bob drains his mailbox. Returns Bob's attachment ids. */
async function send(w: World, files: readonly [string, number][]): Promise<number[]> {
  const dir = tempDir();
  await queueAttachmentMessage(
    w.alice.profile,
    w.bob.profile.account.accountId,
    files.map(([name, size]) => ({ path: testFile(dir, name, size) })),
    '',
  );
  const before = incomingIds(w.bob.profile);
  await w.alice.engine.sendOutbox();
  await w.bob.engine.receive({ firstWaitMs: 2_000 });
  return incomingIds(w.bob.profile).filter((id) => !before.includes(id));
}

function incomingIds(profile: Profile): number[] {
  return profile.db
    .prepare('SELECT id FROM attachments WHERE outgoing = 0 ORDER BY id', { pluck: true })
    .all<number>();
}

function summary(profile: Profile, id: number, rules?: DownloadRules) {
  const messageId = profile.db
    .prepare('SELECT message_id FROM attachments WHERE id = ?', { pluck: true })
    .get<number>([id])!;
  return attachmentsOf(profile, { messageIds: [messageId] }, rules).find((a) => a.id === id)!;
}

const tmpFiles = (p: EnginePerson) => readdirSync(join(p.dir, 'attachments', 'tmp'));

async function savedEquals(profile: Profile, id: number, bytes: Buffer): Promise<boolean> {
  const out = join(tempDir(), 'saved');
  await saveAttachment(profile, id, out, { force: true });
  return readFileSync(out).equals(bytes);
}

/** The chunks of `source`, calling `between` once after the first one went on (before the second). */
async function* afterFirstChunk(
  source: AsyncIterable<Uint8Array>,
  between: () => void,
): AsyncGenerator<Uint8Array> {
  let first = true;
  for await (const chunk of source) {
    if (!first) {
      if (between !== noop) between();
      between = noop;
    }
    first = false;
    yield chunk;
  }
}

const noop = () => undefined;

/** Every progress report of a profile, with the time it came. */
function recordProgress(profile: Profile) {
  const seen: (TransferProgress & { at: number })[] = [];
  const ended: number[] = [];
  const stop = onTransfers(profile, {
    progress: (p) => seen.push({ ...p, at: Date.now() }),
    ended: (e) => ended.push(e.attachmentId),
  });
  return { seen, ended, stop };
}

describe('transfers the user controls, over a relay process', () => {
  it('downloads small images by policy, holds big images and files until a click, and never on a metered connection', async () => {
    const w = await world(1);
    const [small, big, pdf] = await send(w, [
      ['small.png', 200_000],
      ['big.png', 1_500_000],
      ['notes.pdf', 20_000],
    ]);
    expect(summary(w.bob.profile, small!, w.rules())).toMatchObject({
      state: 'done',
      waiting: false,
    });
    expect(summary(w.bob.profile, big!, w.rules())).toMatchObject({
      state: 'pending',
      waiting: true,
    });
    // A file is never auto-downloaded by the app's policy, however small.
    expect(summary(w.bob.profile, pdf!, w.rules())).toMatchObject({
      state: 'pending',
      waiting: true,
    });
    // Nothing of what waits was fetched: no temp file.
    expect(tmpFiles(w.bob)).toEqual([]);

    // Metered: even a small image waits, until the connection is not metered.
    w.setNetwork('metered');
    const [onMetered] = await send(w, [['tiny.jpg', 10_000]]);
    expect(summary(w.bob.profile, onMetered!, w.rules())).toMatchObject({ waiting: true });
    w.setNetwork('unmetered');
    expect((await runDownloads(w.bob.profile, w.rules)).downloaded).toBe(1);
    expect(summary(w.bob.profile, onMetered!, w.rules()).state).toBe('done');

    // The click: the held image downloads, with progress that carries ids and counts only.
    const progress = recordProgress(w.bob.profile);
    w.setNetwork('metered'); // a click downloads on a metered connection too: the user asked
    expect(requestDownload(w.bob.profile, w.fromAlice, big!)).toBe(true);
    await runDownloads(w.bob.profile, w.rules);
    progress.stop();
    expect(summary(w.bob.profile, big!, w.rules())).toMatchObject({
      state: 'done',
      waiting: false,
    });
    expect(await savedEquals(w.bob.profile, big!, testBytes(1_500_000, 'big.png'))).toBe(true);
    expect(progress.seen.length).toBeGreaterThan(0);
    for (const p of progress.seen) {
      expect(Object.keys(p).sort()).toEqual(['at', 'attachmentId', 'direction', 'done', 'total']);
      expect(p).toMatchObject({ attachmentId: big, direction: 'download' });
      expect(p.done).toBeLessThanOrEqual(p.total);
    }
    // Throttled: never two reports of one transfer closer than the interval,
    // except the end (all bytes in and checked), which is reported at once.
    for (let i = 1; i < progress.seen.length; i++) {
      if (progress.seen[i]!.done === progress.seen[i]!.total) continue;
      expect(progress.seen[i]!.at - progress.seen[i - 1]!.at).toBeGreaterThanOrEqual(
        PROGRESS_INTERVAL_MS - 5,
      );
    }
    expect(progress.seen.at(-1)).toMatchObject({ done: progress.seen.at(-1)!.total });
    expect(progress.ended).toEqual([big]);
  });

  it('refuses unknown ids, other conversations’ ids and outgoing ids; repeated clicks make one transfer; cancelling what is not running changes nothing', async () => {
    const w = await world(0);
    const carol = await enginePerson('Carol', w.relayUrl); // only a contact for Bob
    befriend(w.bob, carol);
    const fromCarol = { conversationId: findContact(w.bob.profile.db, 'Carol').conversationId };
    const [photo] = await send(w, [['photo.png', 300_000]]);
    expect(summary(w.bob.profile, photo!, w.rules()).waiting).toBe(true);

    expect(thrownCode(() => requestDownload(w.bob.profile, w.fromAlice, 999_999))).toBe(
      'UNKNOWN_ATTACHMENT',
    );
    expect(thrownCode(() => requestDownload(w.bob.profile, fromCarol, photo!))).toBe(
      'UNKNOWN_ATTACHMENT',
    );
    expect(thrownCode(() => requestDownload(w.bob.profile, { groupRef: 1 }, photo!))).toBe(
      'UNKNOWN_ATTACHMENT',
    );
    expect(thrownCode(() => cancelTransfer(w.bob.profile, fromCarol, photo!))).toBe(
      'UNKNOWN_ATTACHMENT',
    );
    expect(thrownCode(() => cancelTransfer(w.bob.profile, w.fromAlice, 999_999))).toBe(
      'UNKNOWN_ATTACHMENT',
    );
    // Alice's own outgoing copy cannot be "downloaded".
    const outgoing = w.alice.profile.db
      .prepare('SELECT id FROM attachments WHERE outgoing = 1', { pluck: true })
      .get<number>()!;
    expect(thrownCode(() => requestDownload(w.alice.profile, w.toBob, outgoing))).toBe(
      'UNKNOWN_ATTACHMENT',
    );
    // Nothing changed for the refused calls.
    expect(summary(w.bob.profile, photo!, w.rules())).toMatchObject({
      state: 'pending',
      waiting: true,
    });

    // Five clicks, five passes at once: one transfer.
    const progress = recordProgress(w.bob.profile);
    const passes = [];
    for (let i = 0; i < 5; i++) {
      requestDownload(w.bob.profile, w.fromAlice, photo!);
      passes.push(runDownloads(w.bob.profile, w.rules));
    }
    const reports = await Promise.all(passes);
    progress.stop();
    expect(reports.reduce((n, r) => n + r.downloaded, 0)).toBeLessThanOrEqual(2); // shared passes
    expect(progress.ended).toEqual([photo]);
    expect(summary(w.bob.profile, photo!, w.rules()).state).toBe('done');
    // A click on a stored file and a cancel of a finished transfer change nothing.
    expect(requestDownload(w.bob.profile, w.fromAlice, photo!)).toBe(false);
    expect(cancelTransfer(w.bob.profile, w.fromAlice, photo!)).toBe(false);
    expect(await savedEquals(w.bob.profile, photo!, testBytes(300_000, 'photo.png'))).toBe(true);
    // A finished upload cannot be cancelled either.
    expect(cancelTransfer(w.alice.profile, w.toBob, outgoing)).toBe(false);
    expect(
      getMessage(w.alice.profile.db, summary(w.alice.profile, outgoing).messageId!)?.status,
    ).not.toBe('failed');
  });

  it('a cancelled download stops, keeps no temp file, waits for a click, and a later click completes it', async () => {
    const w = await world(0);
    const size = 24_000_000;
    const [video] = await send(w, [['clip.mp4', size]]);
    const progress = recordProgress(w.bob.profile);
    // The relay's real bytes, with the user's Cancel after the first chunk arrived.
    let tempDuringTransfer = -1;
    const cancellingDownloads: DownloadsFor = (address, relayId) => {
      const inner = blobDownloads(w.bob.profile, address, relayId);
      return {
        download: async (blobId, offset) => {
          const download = await inner.download(blobId, offset);
          return {
            length: download.length,
            body: afterFirstChunk(download.body, () => {
              tempDuringTransfer = tmpFiles(w.bob).length;
              expect(cancelTransfer(w.bob.profile, w.fromAlice, video!)).toBe(true);
            }),
          };
        },
      };
    };
    requestDownload(w.bob.profile, w.fromAlice, video!);
    const report = await downloadAttachments(w.bob.profile, cancellingDownloads, w.rules());
    expect(tempDuringTransfer).toBe(2); // a partial temp file and the staged copy existed
    expect(report).toEqual({ downloaded: 0, failed: 0, waiting: 0 });
    expect(summary(w.bob.profile, video!, w.rules())).toMatchObject({
      state: 'pending',
      waiting: true,
      error: null,
    });
    expect(tmpFiles(w.bob)).toEqual([]);
    expect(readdirSync(join(w.bob.dir, 'attachments')).filter((n) => n !== 'tmp')).toEqual([]);
    expect(progress.ended).toEqual([video]);
    // Declined: a later pass leaves it alone, even with a policy that would take it.
    await runDownloads(w.bob.profile, w.rules);
    expect(summary(w.bob.profile, video!, w.rules()).state).toBe('pending');
    // The click again: the whole file, byte-identical.
    requestDownload(w.bob.profile, w.fromAlice, video!);
    expect((await runDownloads(w.bob.profile, w.rules)).downloaded).toBe(1);
    expect(await savedEquals(w.bob.profile, video!, testBytes(size, 'clip.mp4'))).toBe(true);
    progress.stop();
  });

  it('a cancelled upload is not sent: the message fails as CANCELLED, Bob gets nothing; Retry sends it whole', async () => {
    const w = await world(0);
    const size = 24_000_000;
    const queued = await queueAttachmentMessage(
      w.alice.profile,
      w.bob.profile.account.accountId,
      [{ path: testFile(tempDir(), 'movie.mp4', size) }],
      'watch this',
    );
    const [attachment] = attachmentsOf(w.alice.profile, { messageIds: [queued.id] });
    // The relay's real upload, with the user's Cancel after the first chunk went out.
    const cancellingUploads = (): BlobUploads => {
      const inner = w.alice.engine.pool.homeBlobs();
      return {
        create: (length) => inner.create(length),
        offset: (upload) => inner.offset(upload),
        append: (upload, offset, data) =>
          inner.append(
            upload,
            offset,
            afterFirstChunk(data, () =>
              expect(cancelTransfer(w.alice.profile, w.toBob, attachment!.id)).toBe(true),
            ),
          ),
      };
    };
    const report = await uploadAttachments(w.alice.profile, cancellingUploads);
    expect(report).toEqual({ uploaded: 0, queued: 0, failed: 1 });
    expect((await w.alice.engine.sendOutbox()).sent).toBe(0);
    expect(summary(w.alice.profile, attachment!.id)).toMatchObject({
      state: 'failed',
      error: 'CANCELLED',
    });
    expect(getMessage(w.alice.profile.db, queued.id)?.status).toBe('failed');
    // No ciphertext file is kept: its stored copy and relay reservation wait for Retry or
    // Delete (Retry re-derives the blob's bytes from the copy, at the relay's offset).
    expect(tmpFiles(w.alice)).toEqual([]);
    expect(
      w.alice.profile.db
        .prepare('SELECT upload_token IS NOT NULL FROM attachments WHERE id = ?', { pluck: true })
        .get([attachment!.id]),
    ).toBe(1);
    // A second cancel finds nothing to cancel; a later pass sends nothing.
    expect(cancelTransfer(w.alice.profile, w.toBob, attachment!.id)).toBe(false);
    expect((await w.alice.engine.sendOutbox()).sent).toBe(0);
    await w.bob.engine.receive({ firstWaitMs: 500 });
    expect(incomingIds(w.bob.profile)).toEqual([]);

    // Cancelled before its pass began: it never starts.
    const waiting = await queueAttachmentMessage(
      w.alice.profile,
      w.bob.profile.account.accountId,
      [{ path: testFile(tempDir(), 'later.pdf', 50_000) }],
      '',
    );
    const [second] = attachmentsOf(w.alice.profile, { messageIds: [waiting.id] });
    expect(cancelTransfer(w.alice.profile, w.toBob, second!.id)).toBe(true);
    expect(await rejectedCode(() => w.alice.engine.sendOutbox())).toBeUndefined();
    expect(getMessage(w.alice.profile.db, waiting.id)?.status).toBe('failed');
    expect(summary(w.alice.profile, second!.id).error).toBe('CANCELLED');

    // Retry of the first: it uploads again (from the relay's offset), goes out, and arrives whole.
    expect(await retryCancelledUpload(w.alice.profile, queued.id)).toBe(true);
    expect(getMessage(w.alice.profile.db, queued.id)?.status).toBe('queued');
    await w.alice.engine.sendOutbox();
    expect(summary(w.alice.profile, attachment!.id).state).toBe('uploaded');
    await w.bob.engine.receive({ firstWaitMs: 2_000 });
    const [arrived] = incomingIds(w.bob.profile);
    requestDownload(w.bob.profile, w.fromAlice, arrived!);
    await runDownloads(w.bob.profile, w.rules);
    expect(await savedEquals(w.bob.profile, arrived!, testBytes(size, 'movie.mp4'))).toBe(true);
    // Not a cancelled upload: the caller retries it as text.
    expect(await retryCancelledUpload(w.alice.profile, queued.id)).toBe(false);
  });
});
