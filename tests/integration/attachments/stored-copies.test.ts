import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encryptToFile,
  newAttachmentKey,
} from '../../../electron/core/attachments/attachment-crypto.ts';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import {
  type LocalFormat,
  updateAttachment,
} from '../../../electron/core/attachments/attachment-rows.ts';
import { AT_REST_CHUNK_BYTES, atRestLayout } from '../../../electron/core/attachments/at-rest.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { mediaSourceOf } from '../../../electron/core/attachments/media-source.ts';
import { exportBackup, type Profile } from '../../../electron/core/index.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { BACKUP_PASSPHRASE, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// Stored copies on disk (docs/architecture.md#at-rest-format): written in the
// chunked format on both sides, and every reader of a whole copy (save,
// backup export) refuses an altered one with ATTACHMENT_TAMPERED and writes
// nothing; a copy in format 0 (before migration 0015) still reads.

const SIZE = 3 * AT_REST_CHUNK_BYTES + 5;

async function sentAndReceived() {
  const relay = join(tempDir(), 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  const path = testFile(tempDir(), 'notes.bin', SIZE, 'stored');
  const queued = await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
    { path },
  ]);
  await alice.engine.sendOutbox();
  await bob.engine.receive({ firstWaitMs: 200 });
  const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
  const [received] = attachmentsOf(bob.profile, { messageIds: ids });
  const [sent] = attachmentsOf(alice.profile, { messageIds: [queued.id] });
  expect(received?.state).toBe('done');
  return { alice: alice.profile, bob: bob.profile, sentId: sent!.id, receivedId: received!.id };
}

function flipByte(profile: Profile, id: number, at: number): void {
  const { path } = mediaSourceOf(profile, id)!;
  const bytes = readFileSync(path);
  bytes[at]! ^= 0x80;
  writeFileSync(path, bytes);
}

describe('stored copies', () => {
  it('both sides store the chunked format: no digest, the exact length, and save reads back', async () => {
    const { alice, bob, sentId, receivedId } = await sentAndReceived();
    for (const [profile, id] of [
      [alice, sentId],
      [bob, receivedId],
    ] as const) {
      const row = profile.db
        .prepare(
          'SELECT local_format AS format, local_digest AS digest FROM attachments WHERE id = ?',
        )
        .get<{ format: number; digest: Uint8Array<ArrayBuffer> | null }>([id]);
      expect(row).toEqual({ format: 1, digest: null });
      expect(statSync(mediaSourceOf(profile, id)!.path).size).toBe(atRestLayout(SIZE).length);
      const out = join(tempDir(), 'saved');
      await saveAttachment(profile, id, out);
      expect(readFileSync(out).equals(testBytes(SIZE, 'stored'))).toBe(true);
    }
  });

  it('migration 0015: rows that existed get format 0 (the column default), and no other format can be recorded', async () => {
    const { bob, receivedId } = await sentAndReceived();
    const column = bob.db
      .prepare(
        "SELECT dflt_value AS d, \"notnull\" AS n FROM pragma_table_info('attachments') WHERE name = 'local_format'",
      )
      .get<{ d: string; n: number }>();
    expect(column).toEqual({ d: '0', n: 1 });
    const refused = thrownCode(() =>
      bob.commit(undefined, (db) =>
        updateAttachment(db, receivedId, { local_format: 2 as LocalFormat }),
      ),
    );
    expect(refused).toMatch(/CONSTRAINT/);
    expect(mediaSourceOf(bob, receivedId)).toMatchObject({ format: 1 });
  });

  it('an altered copy: save and backup export are ATTACHMENT_TAMPERED and write nothing', async () => {
    const { bob, receivedId } = await sentAndReceived();
    // The last chunk: a whole-file reader must get there before it vouches for the file.
    flipByte(bob, receivedId, atRestLayout(SIZE).length - 20);
    const dir = tempDir();
    const out = join(dir, 'saved');
    expect(await rejectedCode(() => saveAttachment(bob, receivedId, out))).toBe(
      'ATTACHMENT_TAMPERED',
    );
    expect(readdirSync(dir)).toEqual([]);
    const backup = join(dir, 'bob.age');
    const options = { passphrase: BACKUP_PASSPHRASE, scryptLogN: TEST_SCRYPT_LOG_N };
    expect(await rejectedCode(() => exportBackup(bob, backup, options))).toBe(
      'ATTACHMENT_TAMPERED',
    );
    expect(existsSync(backup)).toBe(false);
  });

  it('a copy stored before migration 0015 (format 0) still saves, and is refused when altered', async () => {
    const { bob, receivedId } = await sentAndReceived();
    const key = newAttachmentKey();
    const { path } = mediaSourceOf(bob, receivedId)!;
    const { digest } = await encryptToFile([testBytes(SIZE, 'stored')], SIZE, key, path);
    bob.commit(undefined, (db) =>
      updateAttachment(db, receivedId, { local_key: key, local_digest: digest, local_format: 0 }),
    );
    const out = join(tempDir(), 'saved');
    await saveAttachment(bob, receivedId, out);
    expect(readFileSync(out).equals(testBytes(SIZE, 'stored'))).toBe(true);
    flipByte(bob, receivedId, 100);
    const again = join(tempDir(), 'again');
    expect(await rejectedCode(() => saveAttachment(bob, receivedId, again))).toBe(
      'ATTACHMENT_TAMPERED',
    );
    expect(existsSync(again)).toBe(false);
  });
});
