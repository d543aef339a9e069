import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { exportBackup, importBackup, verifyBackup } from '../../../electron/core/index.ts';
import { SottoError } from '../../../electron/core/errors.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import {
  BACKUP_PASSPHRASE,
  readBackupLines,
  TEST_SCRYPT_LOG_N,
  writeBackupLines,
} from '../../support/backup.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { TEST_KDF } from '../../support/profiles.ts';

// Hostile backups around attachments (docs/backup-format.md#attachments): each
// is an authentic age file (whoever holds the passphrase can write anything)
// whose attachment records break one rule. Every one is refused in import's
// first pass with a stable code, and nothing is written: no profile, no file.

type Line = Record<string, unknown> & { type: string };

const suite = mkdtempSync(join(tmpdir(), 'sotto-backup-hostile-'));
afterAll(() => rmSync(suite, { recursive: true, force: true }));

let lines: Line[];
let original: string;
/** Plaintext of the two files: 100 KB (three data records) and 1 byte. */
const FILES = [testBytes(100_000, 'big'), testBytes(1, 'one')];

beforeAll(async () => {
  const relay = join(suite, 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
    { path: testFile(suite, 'big', FILES[0]!.length, 'big') },
    { path: testFile(suite, 'one', 1, 'one') },
  ]);
  await alice.engine.sendOutbox();
  await bob.engine.receive({ firstWaitMs: 200 });
  const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
  expect(attachmentsOf(bob.profile, { messageIds: ids }).map((a) => a.state)).toEqual([
    'done',
    'done',
  ]);
  original = join(suite, 'bob.age');
  await exportBackup(bob.profile, original, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  lines = (await readBackupLines(original)).map((l) => JSON.parse(l) as Line);
}, 120_000);

/**
 * Writes `edited` as a backup whose manifest counts match its records, so the
 * only fault is the one the test made (not a count mismatch).
 */
async function written(edited: readonly Line[], version?: number): Promise<string> {
  const counts: Record<string, number> = {};
  for (const line of edited.slice(1)) counts[line.type] = (counts[line.type] ?? 0) + 1;
  const manifest = edited[0]!;
  const full = { ...(manifest.counts as Record<string, number>) };
  for (const key of Object.keys(full)) full[key] = counts[key] ?? 0;
  const file = join(suite, `${randomUUID()}.age`);
  await writeBackupLines(file, [
    JSON.stringify({ ...manifest, version: version ?? manifest.version, counts: full }),
    // Before version 4 (mutes) conversation and group records have no mutedUntil.
    ...edited
      .slice(1)
      .map((l) => JSON.stringify((version ?? 4) < 4 ? { ...l, mutedUntil: undefined } : l)),
  ]);
  return file;
}

/** What importing `file` into a fresh directory does: the error's code and detail; and the directory must not exist after. */
async function refusal(file: string): Promise<{ code: string; detail?: string }> {
  const dir = join(suite, `restore-${randomUUID()}`);
  try {
    await importBackup(dir, file, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'restored passphrase', kdfCost: TEST_KDF },
    });
  } catch (error) {
    expect(existsSync(dir)).toBe(false);
    if (!(error instanceof SottoError)) throw error;
    // verify --deep refuses it the same way.
    await expect(verifyBackup(file, BACKUP_PASSPHRASE, { deep: true })).rejects.toMatchObject({
      code: error.code,
    });
    return { code: error.code, detail: error.detail };
  }
  throw new Error('the backup was accepted');
}

const indexOf = (type: string, nth = 0) =>
  lines.map((l, i) => (l.type === type ? i : -1)).filter((i) => i >= 0)[nth]!;
const edit = (i: number, changes: Record<string, unknown>) =>
  lines.map((l, j) => (j === i ? { ...l, ...changes } : l));
const without = (i: number) => lines.filter((_, j) => j !== i);

describe('hostile attachment records', () => {
  it('the unaltered backup restores (the baseline every case below changes one thing of)', async () => {
    const dir = join(suite, 'baseline');
    const report = await importBackup(dir, await written(lines), {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'restored passphrase', kdfCost: TEST_KDF },
    });
    expect(report.attachmentsRestored).toBe(2);
  });

  it.each([
    [
      'a record claiming a larger size than its bytes',
      () => {
        const i = indexOf('attachment');
        return edit(i, { size: FILES[0]!.length + 1 });
      },
      'attachment data cut short',
    ],
    [
      'a record claiming a smaller size than its bytes',
      () => {
        const i = indexOf('attachment');
        return edit(i, { size: FILES[0]!.length - 1 });
      },
      'attachment data beyond its size',
    ],
    [
      'a data record missing in the middle',
      () => without(indexOf('attachmentData', 1)),
      'attachment data offset',
    ],
    [
      'the last data record missing',
      () => without(indexOf('attachmentData', 2)),
      'attachment data cut short',
    ],
    [
      'a digest that does not match the bytes',
      () => {
        const i = indexOf('attachment');
        return edit(i, { sha256: 'ab'.repeat(32) });
      },
      'attachment digest',
    ],
    [
      'a flipped byte in the data',
      () => {
        const i = indexOf('attachmentData', 1);
        const bytes = Buffer.from(lines[i]!.data as string, 'base64');
        bytes.writeUInt8(bytes[100]! ^ 1, 100);
        return edit(i, { data: bytes.toString('base64') });
      },
      'attachment digest',
    ],
    [
      'duplicate attachment ids',
      () => {
        const first = lines[indexOf('attachment')]!.id;
        const second = indexOf('attachment', 1);
        return lines.map((l, j) =>
          j === second
            ? { ...l, id: first }
            : j > second && l.type === 'attachmentData'
              ? { ...l, attachment: first }
              : l,
        );
      },
      'duplicate attachment id',
    ],
    [
      'a record for a message that does not exist',
      () => edit(indexOf('attachment'), { message: randomUUID() }),
      'attachment of an unknown message',
    ],
    [
      'data of another attachment',
      () => {
        const second = lines[indexOf('attachment', 1)]!.id;
        return edit(indexOf('attachmentData', 0), { attachment: second });
      },
      'attachment data out of place',
    ],
    [
      'data with no attachment record before it',
      () => without(indexOf('attachment', 0)),
      'attachment data out of place',
    ],
    [
      'an oversized data record (48 KiB + 1 byte)',
      () => {
        const i = indexOf('attachmentData', 0);
        return edit(i, { data: Buffer.alloc(48 * 1024 + 1).toString('base64') });
      },
      'attachmentData record',
    ],
    [
      'data that is not canonical base64',
      () => edit(indexOf('attachmentData', 0), { data: 'AB==' }),
      'attachmentData record',
    ],
    [
      'a record claiming more than 100 MiB',
      () => edit(indexOf('attachment'), { size: 100 * 1024 * 1024 + 1 }),
      'attachment record',
    ],
    [
      'a pending record that carries bytes',
      () => edit(indexOf('attachment'), { state: 'pending' }),
      'attachment record',
    ],
    [
      'an unknown member',
      () => edit(indexOf('attachment'), { path: '../../etc/passwd' }),
      'attachment record',
    ],
    [
      'a message record after the attachments',
      () => {
        const message = lines[indexOf('message')]!;
        return [...lines, { ...message, uuid: randomUUID() }];
      },
      'record out of order',
    ],
  ])('%s is BACKUP_TAMPERED', async (_, mutate, detail) => {
    expect(await refusal(await written(mutate()))).toEqual({ code: 'BACKUP_TAMPERED', detail });
  });

  it('a line longer than 2 MiB inside the attachment data is BACKUP_TAMPERED before it is held', async () => {
    const i = indexOf('attachmentData', 0);
    const huge = edit(i, { data: Buffer.alloc(3 * 1024 * 1024).toString('base64') });
    expect(await refusal(await written(huge))).toEqual({
      code: 'BACKUP_TAMPERED',
      detail: 'record too long',
    });
  });

  it('attachment records in a version 2 file are BACKUP_TAMPERED (version 2 has none)', async () => {
    expect(await refusal(await written(lines, 2))).toEqual({
      code: 'BACKUP_TAMPERED',
      detail: 'attachment record before version 3',
    });
  });

  it('the same file without its attachment records, as version 2, restores as before (no attachments)', async () => {
    const old = lines.filter((l) => l.type !== 'attachment' && l.type !== 'attachmentData');
    const dir = join(suite, 'v2');
    const report = await importBackup(dir, await written(old, 2), {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'restored passphrase', kdfCost: TEST_KDF },
    });
    expect(report).toMatchObject({ attachmentsRestored: 0, messagesInserted: 1 });
  });

  it('a file cut inside an attachment data record is BACKUP_TRUNCATED, and nothing is written', async () => {
    const bytes = readFileSync(original);
    // The 100 KB file's data is the last ~135 KB of the stream before the trailer's chunk.
    const cut = join(suite, 'cut.age');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100_000));
    expect((await refusal(cut)).code).toBe('BACKUP_TRUNCATED');
  });

  it('a refused backup leaves an existing profile and its attachment files as they were', async () => {
    const dir = join(suite, 'merge-target');
    await importBackup(dir, original, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'restored passphrase', kdfCost: TEST_KDF },
    });
    const before = readdirSync(join(dir, 'attachments'), { recursive: true }).sort();
    const database = readFileSync(join(dir, 'sotto.db'));
    const hostile = await written(edit(indexOf('attachment'), { sha256: 'cd'.repeat(32) }));
    await expect(
      importBackup(dir, hostile, {
        passphrase: BACKUP_PASSPHRASE,
        unlock: { passphrase: 'restored passphrase' },
      }),
    ).rejects.toMatchObject({ code: 'BACKUP_TAMPERED' });
    expect(readdirSync(join(dir, 'attachments'), { recursive: true }).sort()).toEqual(before);
    expect(readFileSync(join(dir, 'sotto.db')).equals(database)).toBe(true);
  });
});
