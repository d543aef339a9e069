import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { failedMessageIds, findContact, getMessage } from '../../../electron/core/index.ts';
import { uploadAttachments } from '../../../electron/core/attachments/upload-job.ts';
import type { BlobUploads } from '../../../electron/core/sync/blobs.ts';
import { FolderBlobs } from '../../../electron/core/sync/folder-blobs.ts';
import { ciphertextSize, MAX_ATTACHMENT_BYTES } from '../../../shared/protocol/attachment.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// Attachments between two engines on one folder relay, in process: the
// transfer jobs, the checks a download makes, and what is left on disk.

function bytesOf(size: number, seed = 'file'): Buffer {
  return createHash('shake256', { outputLength: size }).update(`${seed} ${size}`).digest();
}

async function pair() {
  const relay = join(tempDir(), 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  return { relay, alice, bob };
}

function writeSource(bytes: Buffer, name = 'report.pdf'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, bytes);
  return path;
}

const files = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

describe('attachments between engines on a folder relay', () => {
  it('a file goes out, comes in and saves byte-identical; the history lists it', async () => {
    const { alice, bob } = await pair();
    const bytes = bytesOf(70_000);
    const queued = await queueAttachmentMessage(
      alice.profile,
      bob.profile.account.accountId,
      [{ path: writeSource(bytes) }],
      'the report',
    );
    await alice.engine.sendOutbox();
    expect(readdirSync(join(alice.dir, 'attachments', 'tmp'))).toEqual([]);
    await bob.engine.receive({ firstWaitMs: 200 });
    const conversation = findContact(bob.profile.db, 'Alice').conversationId;
    const incoming = bob.profile.db
      .prepare('SELECT id FROM messages WHERE conversation_id = ?', { pluck: true })
      .all<number>([conversation]);
    const [summary] = attachmentsOf(bob.profile, { messageIds: incoming });
    expect(summary).toMatchObject({
      outgoing: false,
      contentType: 'application/pdf',
      fileName: 'report.pdf',
      size: 70_000,
      state: 'done',
    });
    const out = join(tempDir(), 'saved.pdf');
    await saveAttachment(bob.profile, summary!.id, out);
    expect(readFileSync(out).equals(bytes)).toBe(true);
    // The sender keeps its own stored copy too.
    const [sent] = attachmentsOf(alice.profile, { messageIds: [queued.id] });
    expect(sent?.state).toBe('uploaded');
    const again = join(tempDir(), 'again.pdf');
    await saveAttachment(alice.profile, sent!.id, again);
    expect(readFileSync(again).equals(bytes)).toBe(true);
    expect(await rejectedCode(() => saveAttachment(alice.profile, sent!.id, again))).toBe(
      'INVALID_INPUT',
    );
  });
});

describe('a file name that hides its type', () => {
  it('is sent without bidi overrides or C1 controls, as receivers would show it', async () => {
    const { alice, bob } = await pair();
    // "invoice<RLO>fdp.exe" shows as "invoiceexe.pdf" where the override is honoured.
    const queued = await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
      { path: writeSource(bytesOf(1_000), 'invoice\u202efdp\u0085.exe') },
    ]);
    const [sent] = attachmentsOf(alice.profile, { messageIds: [queued.id] });
    expect(sent?.fileName).toBe('invoicefdp.exe');
  });
});

describe('an unreachable relay delays uploads, it does not fail them', () => {
  it('uploads wait with a backoff while the relay folder is gone, then complete and the message goes out', async () => {
    const { relay, alice, bob } = await pair();
    const queued = await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
      { path: writeSource(bytesOf(5_000)) },
    ]);
    const away = `${relay}-away`;
    renameSync(relay, away);
    await alice.engine.sendOutbox().catch(() => undefined);
    const waiting = alice.profile.db
      .prepare('SELECT state, attempts, next_attempt_at AS due FROM attachments')
      .get<{ state: string; attempts: number; due: number }>()!;
    expect(waiting).toMatchObject({ state: 'uploading', attempts: 1 });
    expect(alice.profile.db.prepare('SELECT count(*) FROM outbox', { pluck: true }).get()).toBe(0);
    renameSync(away, relay);
    // Passes before the backoff is over leave it waiting; one after it uploads (generous budget).
    const deadline = Date.now() + 60_000;
    while (attachmentsOf(alice.profile, { messageIds: [queued.id] })[0]?.state !== 'uploaded') {
      expect(Date.now()).toBeLessThan(deadline);
      await alice.engine.sendOutbox();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await alice.engine.sendOutbox();
    await bob.engine.receive({ firstWaitMs: 200 });
    const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
    expect(attachmentsOf(bob.profile, { messageIds: ids }).map((a) => a.state)).toEqual(['done']);
  });
});

describe('a relay that refuses an upload for good', () => {
  it('fails the message (nothing is sent, its ciphertext goes) and leaves it out of retries', async () => {
    const { relay, alice, bob } = await pair();
    const queued = await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
      { path: writeSource(bytesOf(5_000)) },
    ]);
    // A reservation whose token the relay does not know (a hostile writer of the folder replaced it).
    const relayId = (
      JSON.parse(readFileSync(join(relay, 'relay.json'), 'utf8')) as { relayId: string }
    ).relayId;
    const reserved = await new FolderBlobs(relay, { expected: () => relayId }).create(
      ciphertextSize(5_000),
    );
    alice.profile.db
      .prepare(
        'UPDATE attachments SET blob_id = ?, upload_token = ?, upload_length = ?, upload_expires_at = ?',
      )
      .run([reserved.blobId, 'x'.repeat(43), reserved.length, reserved.expiresAt]);
    await alice.engine.sendOutbox();
    expect(attachmentsOf(alice.profile, { messageIds: [queued.id] })).toMatchObject([
      { state: 'failed', error: 'RELAY_ERR_FORBIDDEN' },
    ]);
    expect(getMessage(alice.profile.db, queued.id)?.status).toBe('failed');
    expect(alice.profile.db.prepare('SELECT count(*) FROM outbox', { pluck: true }).get()).toBe(0);
    expect(readdirSync(join(alice.dir, 'attachments', 'tmp'))).toEqual([]);
    const conversation = findContact(alice.profile.db, 'Bob').conversationId;
    expect(failedMessageIds(alice.profile, conversation)).toEqual([]);
  });
});

type Pair = Awaited<ReturnType<typeof pair>>;

/**
 * Alice sends `bytes`; `beforeSend` may rewrite her attachment row before
 * the upload, `afterUpload` once her blob is complete (what her pointer will
 * say: a hostile sender), `beforeReceive` the relay's blob files.
 * Returns Bob's attachment after his receive pass.
 */
/**
 * Alice's home uploads, `then` called once her blob is complete and before
 * her message is queued (the pointer is encoded from her row at that moment).
 */
function completing(alice: Pair['alice'], id: number, then: (id: number) => void): BlobUploads {
  const inner = alice.engine.pool.homeBlobs();
  return {
    create: (length) => inner.create(length),
    offset: (upload) => inner.offset(upload),
    append: async (upload, offset, data) => {
      const at = await inner.append(upload, offset, data);
      if (at === upload.length) then(id);
      return at;
    },
  };
}

async function transfer(
  p: Pair,
  bytes: Buffer,
  hooks: {
    beforeSend?: (attachmentId: number) => void;
    afterUpload?: (attachmentId: number) => void;
    beforeReceive?: (blob: { data: string; meta: string }) => void;
  } = {},
) {
  const { alice, bob, relay } = p;
  const queued = await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
    { path: writeSource(bytes, 'notes.txt') },
  ]);
  const [row] = attachmentsOf(alice.profile, { messageIds: [queued.id] });
  hooks.beforeSend?.(row!.id);
  const { afterUpload } = hooks;
  if (afterUpload)
    await uploadAttachments(alice.profile, () => completing(alice, row!.id, afterUpload));
  await alice.engine.sendOutbox();
  const blobId = alice.profile.db
    .prepare('SELECT blob_id FROM attachments WHERE id = ?', { pluck: true })
    .get<string>([row!.id])!;
  hooks.beforeReceive?.({
    data: join(relay, 'blobs', `${blobId}.data`),
    meta: join(relay, 'blobs', `${blobId}.json`),
  });
  await bob.engine.receive({ firstWaitMs: 200 });
  const ids = bob.profile.db
    .prepare('SELECT id FROM messages WHERE outgoing = 0', { pluck: true })
    .all<number>();
  return { bob: attachmentsOf(bob.profile, { messageIds: ids }), blobId };
}

/** Nothing of the attachment under Bob's profile: no stored copy, no ciphertext in transit. */
function nothingStored(p: Pair) {
  expect(files(join(p.bob.dir, 'attachments'))).toEqual(
    files(join(p.bob.dir, 'attachments')).filter((n) => n === 'tmp'),
  );
  expect(files(join(p.bob.dir, 'attachments', 'tmp'))).toEqual([]);
}

function flipByte(path: string, at: number) {
  const bytes = readFileSync(path);
  const index = at < 0 ? bytes.length + at : at;
  bytes[index]! ^= 0x01;
  writeFileSync(path, bytes);
}

describe('a download that does not check out is refused for good, nothing kept', () => {
  it.each([
    ['the blob body', 5_000],
    ['the MAC at the blob end', -1],
    ['the IV', 0],
  ])('a flipped byte in %s: ATTACHMENT_TAMPERED', async (_name, at) => {
    const p = await pair();
    const { bob } = await transfer(p, bytesOf(20_000), {
      beforeReceive: (blob) => flipByte(blob.data, at),
    });
    expect(bob).toMatchObject([{ state: 'failed', error: 'ATTACHMENT_TAMPERED' }]);
    nothingStored(p);
    // Never retried (R5): another pass leaves it failed and fetches nothing.
    await p.bob.engine.receive({ firstWaitMs: 100 });
    expect(attachmentsOf(p.bob.profile, { messageIds: [bob[0]!.messageId!] })[0]?.state).toBe(
      'failed',
    );
  });

  it.each([
    ['digest', 3],
    ['transport_key', 0],
    ['transport_key', 40],
  ])(
    'a pointer whose %s has a flipped byte (a hostile sender): ATTACHMENT_TAMPERED',
    async (column, at) => {
      const p = await pair();
      const { bob } = await transfer(p, bytesOf(3_000), {
        afterUpload: (id) => {
          const value = Buffer.from(
            p.alice.profile.db
              .prepare(`SELECT ${column} FROM attachments WHERE id = ?`, { pluck: true })
              .get<Uint8Array<ArrayBuffer>>([id])!,
          );
          value[at]! ^= 0x01;
          p.alice.profile.db
            .prepare(`UPDATE attachments SET ${column} = ? WHERE id = ?`)
            .run([new Uint8Array(value), id]);
        },
      });
      expect(bob).toMatchObject([{ state: 'failed', error: 'ATTACHMENT_TAMPERED' }]);
      nothingStored(p);
    },
  );

  it('a truncated blob a relay calls complete: ATTACHMENT_TAMPERED, never stored', async () => {
    const p = await pair();
    const { bob } = await transfer(p, bytesOf(10_000), {
      beforeReceive: (blob) => {
        const bytes = readFileSync(blob.data);
        writeFileSync(blob.data, bytes.subarray(0, bytes.length - 100));
        // A relay that claims the short blob is complete.
        const meta = JSON.parse(readFileSync(blob.meta, 'utf8')) as { length: number };
        writeFileSync(blob.meta, JSON.stringify({ ...meta, length: bytes.length - 100 }));
      },
    });
    expect(bob).toMatchObject([{ state: 'failed', error: 'ATTACHMENT_TAMPERED' }]);
    nothingStored(p);
  });

  it('a blob longer than the pointer allows is refused before its body is read', async () => {
    const p = await pair();
    const { bob } = await transfer(p, bytesOf(1_000), {
      beforeReceive: (blob) => {
        const bytes = readFileSync(blob.data);
        const longer = Buffer.concat([bytes, Buffer.alloc(50 * 1024 * 1024 - bytes.length)]);
        writeFileSync(blob.data, longer);
        const meta = JSON.parse(readFileSync(blob.meta, 'utf8')) as { length: number };
        writeFileSync(blob.meta, JSON.stringify({ ...meta, length: longer.length }));
      },
    });
    expect(bob).toMatchObject([{ state: 'failed', error: 'ATTACHMENT_TAMPERED' }]);
    nothingStored(p);
  });

  it('a blob the relay does not have: ATTACHMENT_NOT_FOUND, surfaced, not retried', async () => {
    const p = await pair();
    const { bob } = await transfer(p, bytesOf(1_000), {
      beforeReceive: (blob) => {
        rmSync(blob.data);
        rmSync(blob.meta);
      },
    });
    expect(bob).toMatchObject([{ state: 'failed', error: 'ATTACHMENT_NOT_FOUND' }]);
    nothingStored(p);
  });

  it("a contact turned hostile points at another user's blob: the digest fails, nothing is stored", async () => {
    const p = await pair();
    // Carol's blob on the same relay (a file Bob must never get through Alice's pointer).
    const carol = await enginePerson('Carol', p.relay);
    befriend(carol, p.bob);
    const carolQueued = await queueAttachmentMessage(
      carol.profile,
      p.bob.profile.account.accountId,
      [{ path: writeSource(bytesOf(3_000, 'carol'), 'carol.txt') }],
    );
    await carol.engine.sendOutbox();
    const carolBlob = carol.profile.db
      .prepare('SELECT blob_id FROM attachments WHERE message_id = ?', { pluck: true })
      .get<string>([carolQueued.id])!;
    // Bob has not fetched Carol's message: her blob is only reachable by Alice's forged pointer here.
    const { bob } = await transfer(p, bytesOf(3_000), {
      beforeSend: (id) =>
        p.alice.profile.db
          .prepare(
            "UPDATE attachments SET blob_id = ?, state = 'uploaded', temp_name = NULL WHERE id = ?",
          )
          .run([carolBlob, id]),
    });
    const fromAlice = bob.filter((a) => a.fileName === 'notes.txt');
    expect(fromAlice).toMatchObject([{ state: 'failed', error: 'ATTACHMENT_TAMPERED' }]);
  });

  it('a pointer over the size limit is refused with its whole message (the content does not parse)', async () => {
    const p = await pair();
    // Alice's client would never encode it: a hostile one writes the JSON itself.
    const json = JSON.stringify({
      v: 1,
      type: 'text',
      id: randomUUID(),
      sentAt: Date.now(),
      body: '',
      attachments: [
        {
          blobId: 'A'.repeat(22),
          key: toBase64(new Uint8Array(64)),
          digest: toBase64(new Uint8Array(32)),
          size: MAX_ATTACHMENT_BYTES + 1,
          contentType: 'application/octet-stream',
        },
      ],
    });
    const bytes = Buffer.from(json, 'utf8');
    const payload = new Uint8Array(Math.ceil((bytes.length + 1) / 160) * 160);
    payload.set(bytes);
    payload[bytes.length] = 0x80;
    p.alice.profile.commit(undefined, (db) =>
      db
        .prepare(
          `INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, next_attempt_at, created_at)
           VALUES ('message', NULL, ?, ?, 1, ?, 0, ?)`,
        )
        .run([randomUUID(), p.bob.profile.account.accountId, payload, Date.now()]),
    );
    await p.alice.engine.sendOutbox();
    const report = await p.bob.engine.receive({ firstWaitMs: 200 });
    expect(report.stored).toBe(0);
    expect(
      p.bob.profile.db.prepare('SELECT count(*) FROM attachments', { pluck: true }).get(),
    ).toBe(0);
    nothingStored(p);
  });
});
