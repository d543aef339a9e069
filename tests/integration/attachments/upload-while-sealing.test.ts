import { appendFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import type { ComposeOptions } from '../../../electron/core/attachments/compose-seal.ts';
import { SottoError } from '../../../electron/core/errors.ts';
import type { BlobUploads } from '../../../electron/core/sync/blobs.ts';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import {
  ATTACHMENT_RELAY_KINDS,
  type AttachmentRelay,
  testBytes,
  testFile,
  useAttachmentRelays,
} from '../../support/attachment-relays.ts';
import { receivedBytes } from '../../support/engine-attachments.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { rejectedCode } from '../../support/errors.ts';
import { watchedUploads } from '../../support/attachment-transfer.ts';
import { tempDir } from '../../support/profiles.ts';
import { relayDataDir } from '../../support/relay-client.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// Upload while sealing (compose-seal.ts, sealing-upload.ts): a large file's upload
// takes the blob's bytes from the seal as they are made, with no ciphertext
// temp file. What must hold: bytes leave while the stored copy is still being
// sealed, and no `.up` file is ever written; the message is queued only once
// the blob is complete; a cancel or a
// source file that changes stops both and leaves nothing; a relay that
// refuses or goes away mid-seal leaves the message waiting as before. Real
// relays (folder, relay process); the recorder around the engine's uploads
// only watches the bytes go by and acts at a point of progress.

const SIZE = 32 * 1024 * 1024;
const LENGTH = ciphertextSize(SIZE);

interface Recording {
  creates: number;
  /** Bytes the relay was given while the stored copy was still being sealed (its `.stage` file present). */
  whileSealing: number;
  /** Ciphertext temp files (`.up`) seen in attachments/tmp/ at any chunk (must stay 0). */
  tempFiles: number;
  /** Bytes handed to the relay so far. */
  sent: number;
}

/**
 * The engine's home uploads, recorded: at each chunk given to the relay,
 * what attachments/tmp/ holds at that moment; `onChunk` runs after each.
 */
function recorder(
  profileDir: string,
  inner: () => BlobUploads,
  onChunk: (recording: Recording) => void = () => undefined,
): { uploads: () => BlobUploads; recording: Recording } {
  const recording: Recording = { creates: 0, whileSealing: 0, tempFiles: 0, sent: 0 };
  const uploads = watchedUploads(inner, recording, (_, chunk) => {
    const tmp = tmpFiles(profileDir);
    if (tmp.some((n) => n.endsWith('.stage'))) recording.whileSealing += chunk.length;
    recording.tempFiles += tmp.filter((n) => n.endsWith('.up')).length;
    onChunk(recording);
  });
  return { uploads, recording };
}

/** Names in attachments/tmp/ (empty before it exists). */
function tmpFiles(profileDir: string): string[] {
  try {
    return readdirSync(join(profileDir, 'attachments', 'tmp'));
  } catch {
    return [];
  }
}

/** Files a profile holds under attachments/ (stored copies and temp files). */
function profileFiles(profileDir: string): string[] {
  const dir = join(profileDir, 'attachments');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) =>
    statSync(join(dir, n)).isFile(),
  );
}

async function pairOn(address: string) {
  const alice = await enginePerson('Alice', address);
  const bob = await enginePerson('Bob', address);
  befriend(alice, bob);
  return { alice, bob };
}

type Person = Awaited<ReturnType<typeof pairOn>>['alice'];

function count(person: Person, table: 'messages' | 'attachments' | 'outbox'): number {
  return person.profile.db.prepare(`SELECT count(*) FROM ${table}`, { pluck: true }).get<number>()!;
}

/** Alice composes the file at `path` to Bob with `options`; the error code it rejects with, if any. */
function composeCode(
  alice: Person,
  bob: Person,
  path: string,
  options: ComposeOptions,
): Promise<string | undefined> {
  return rejectedCode(() =>
    queueAttachmentMessage(
      alice.profile,
      bob.profile.account.accountId,
      [{ path }],
      '',
      undefined,
      options,
    ),
  );
}

/** Alice composes a SIZE-byte file to Bob through her recorded home uploads; the recording. */
async function composeRecorded(
  alice: Person,
  bob: Person,
  onChunk?: (recording: Recording) => void,
): Promise<Recording> {
  const path = testFile(tempDir(), 'video.bin', SIZE);
  const { uploads, recording } = recorder(alice.dir, () => alice.engine.pool.homeBlobs(), onChunk);
  await queueAttachmentMessage(
    alice.profile,
    bob.profile.account.accountId,
    [{ path }],
    '',
    undefined,
    { uploads },
  );
  return recording;
}

/** Nothing was stored or sent: no row, no file, and (unless `orphanMayBeComplete`) no complete blob on the relay. */
function nothingLeft(alice: Person, relay: AttachmentRelay, orphanMayBeComplete = false): void {
  expect(count(alice, 'messages')).toBe(0);
  expect(count(alice, 'attachments')).toBe(0);
  expect(count(alice, 'outbox')).toBe(0);
  expect(profileFiles(alice.dir)).toEqual([]);
  if (!orphanMayBeComplete)
    expect([...relay.blobSizes().values()].filter((size) => size >= LENGTH)).toEqual([]);
}

const startRelay = useAttachmentRelays();

describe.each(ATTACHMENT_RELAY_KINDS)('upload while sealing over a %s relay', (kind) => {
  it('the relay gets bytes while the seal runs, from no temp file; the message is queued only once the blob is complete', async () => {
    const relay = await startRelay(kind);
    const { alice, bob } = await pairOn(relay.address);
    const recording = await composeRecorded(alice, bob);
    // The blob went while sealing; the reservation is committed with the row.
    expect(recording.whileSealing).toBeGreaterThan(0);
    const row = alice.profile.db
      .prepare('SELECT blob_id AS blobId, transfer_offset AS offset, state FROM attachments')
      .get<{ blobId: string | null; offset: number; state: string }>();
    expect(row?.blobId).not.toBeNull();
    expect(row?.state).toBe('uploading');
    expect(count(alice, 'outbox')).toBe(0); // queued only by the upload job, once the relay says complete (R2)
    await alice.engine.sendOutbox();
    expect(recording.tempFiles).toBe(0);
    // One reservation, sent once: the upload job went on from the relay's offset.
    expect([...relay.blobSizes().values()]).toEqual([LENGTH]);
    expect((await receivedBytes(bob)).equals(testBytes(SIZE, 'video.bin'))).toBe(true);
  });

  it.each([
    ['during the seal, mid-upload', () => true, false],
    ['with the last chunk, the seal over', (r: Recording) => r.sent >= LENGTH, true],
  ])(
    'a cancel %s: CANCELLED, nothing stored, no message',
    async (_, now: (r: Recording) => boolean, sealOver: boolean) => {
      const relay = await startRelay(kind);
      const { alice, bob } = await pairOn(relay.address);
      const path = testFile(tempDir(), 'video.bin', SIZE);
      const cancel = new AbortController();
      const { uploads, recording } = recorder(
        alice.dir,
        () => alice.engine.pool.homeBlobs(),
        (r) => now(r) && cancel.abort(),
      );
      const code = await composeCode(alice, bob, path, { uploads, signal: cancel.signal });
      expect(code).toBe('CANCELLED');
      expect(recording.sent).toBeGreaterThan(0); // the cancel came mid-upload
      expect(recording.tempFiles).toBe(0);
      // Cancelled with its last chunk, the blob may be complete: an orphan nobody points at.
      nothingLeft(alice, relay, sealOver);
    },
  );

  it.each([
    ['truncated', (path: string) => truncateSync(path, 1024)],
    ['grown', (path: string) => appendFileSync(path, 'one byte more')],
  ])(
    'a source file %s during the seal: INVALID_INPUT, the upload stops, nothing stored or sent',
    async (_, change) => {
      const relay = await startRelay(kind);
      const { alice, bob } = await pairOn(relay.address);
      const path = testFile(tempDir(), 'video.bin', SIZE);
      let changed = false;
      const { uploads } = recorder(
        alice.dir,
        () => alice.engine.pool.homeBlobs(),
        () => {
          if (!changed) change(path);
          changed = true;
        },
      );
      const code = await composeCode(alice, bob, path, { uploads });
      expect(changed).toBe(true);
      expect(code).toBe('INVALID_INPUT');
      nothingLeft(alice, relay);
      // Nothing reached Bob either.
      await bob.engine.receive({ firstWaitMs: 200, idleMs: 0 });
      expect(count(bob, 'messages')).toBe(0);
    },
  );
});

describe('upload while sealing, the relay process refusing or going away', () => {
  let relayProcess: RelayProcess | undefined;

  it('no home relay to upload to (the uploads throw): compose stores the message as before, the upload job sends it', async () => {
    const relay = await startRelay('folder');
    const { alice, bob } = await pairOn(relay.address);
    const path = testFile(tempDir(), 'video.bin', SIZE);
    await queueAttachmentMessage(
      alice.profile,
      bob.profile.account.accountId,
      [{ path }],
      '',
      undefined,
      {
        uploads: () => {
          throw new SottoError('NOT_CONFIGURED');
        },
      },
    );
    expect(
      alice.profile.db.prepare('SELECT blob_id FROM attachments', { pluck: true }).get(),
    ).toBeNull();
    await alice.engine.sendOutbox();
    expect((await receivedBytes(bob)).equals(testBytes(SIZE, 'video.bin'))).toBe(true);
  });

  it('over its blob quota: compose still stores the message, which waits for the quota as before', async () => {
    relayProcess = await startRelayProcess(relayDataDir(), {
      args: ['--blob-quota-bytes', '1048576'],
    });
    try {
      const { alice, bob } = await pairOn(relayProcess.url);
      const recording = await composeRecorded(alice, bob);
      expect(recording.creates).toBe(1);
      expect(recording.sent).toBe(0);
      await alice.engine.sendOutbox();
      const row = alice.profile.db
        .prepare(
          'SELECT state, blob_id AS blobId, attempts, next_attempt_at AS next FROM attachments',
        )
        .get<{ state: string; blobId: string | null; attempts: number; next: number }>();
      expect(row).toMatchObject({ state: 'uploading', blobId: null, attempts: 1 });
      expect(row!.next).toBeGreaterThan(Date.now());
      expect(
        alice.profile.db.prepare('SELECT status FROM messages', { pluck: true }).get<string>(),
      ).toBe('queued');
    } finally {
      await relayProcess.stop();
    }
  });

  it('stopped mid-seal and started again on its data: the upload resumes from its offset, one blob, byte-identical', async () => {
    const data = relayDataDir();
    relayProcess = await startRelayProcess(data);
    const port = relayProcess.port;
    try {
      const { alice, bob } = await pairOn(relayProcess.url);
      let stopping: Promise<unknown> | undefined;
      const recording = await composeRecorded(alice, bob, (r) => {
        if (r.sent >= 4 * 1024 * 1024) stopping ??= relayProcess!.stop();
      });
      await stopping;
      expect(count(alice, 'outbox')).toBe(0);
      relayProcess = await startRelayProcess(data, { port });
      await alice.engine.sendOutbox();
      expect(recording.creates).toBe(1);
      expect(recording.tempFiles).toBe(0);
      expect((await receivedBytes(bob)).equals(testBytes(SIZE, 'video.bin'))).toBe(true);
    } finally {
      await relayProcess?.stop();
    }
  });
});
