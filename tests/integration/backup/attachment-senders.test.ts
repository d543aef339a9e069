import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { queueGroupAttachmentMessage } from '../../../electron/core/attachments/compose-group.ts';
import { saveAttachment } from '../../../electron/core/attachments/attachment-files.ts';
import { exportBackup, importBackup, Profile } from '../../../electron/core/index.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { BACKUP_PASSPHRASE, rewriteBackup, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { afterTest } from '../../support/engines.ts';
import { refusedEverywhere } from '../../support/backup-refusal.ts';
import { aliceBobCarol } from '../../support/group-world.ts';
import { snapshotDir, TEST_KDF, tempDir } from '../../support/profiles.ts';

// Attachment records name their message by sender and uuid (format 7,
// docs/backup-format.md#attachments). In a group, Bob copies the id of
// Alice's message into his own, each with one file: Carol's backup restores
// each file under its own sender's message. A version 6 file names no sender:
// the shared id attaches to nothing rather than to the wrong message. A record
// naming a sender with no such message is dropped and counted, the rest
// restored; a malformed sender is BACKUP_TAMPERED and nothing is written
// (neither a merge into an existing profile nor a new one).

const RESTORED = 'restored passphrase';
const FILES = { alice: testBytes(70_000, 'alice'), bob: testBytes(333, 'bob') };
const DIRECT = testBytes(1_000, 'direct');

// Per-test temp dirs are removed after each test: the suite's files live here until the end.
const root = mkdtempSync(join(tmpdir(), 'sotto-backup-senders-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let original = '';
/** Carol's backup restored once: the profile a refused merge must leave as it was. */
let target = '';
let shared = '';
let accounts: { alice: string; bob: string; carol: string };

beforeAll(async () => {
  const { alice, bob, carol, all, group } = await aliceBobCarol('Files');
  const source = root;
  const real = await queueGroupAttachmentMessage(alice.profile, group.groupId, [
    { path: testFile(source, 'alice.bin', FILES.alice.length, 'alice') },
  ]);
  const copy = await queueGroupAttachmentMessage(bob.profile, group.groupId, [
    { path: testFile(source, 'bob.bin', FILES.bob.length, 'bob') },
  ]);
  // Bob's message goes out under Alice's id (the receive path lets it in: group-uuid-scope.test.ts).
  bob.profile.db
    .prepare('UPDATE group_messages SET uuid = ? WHERE id = ?')
    .run([real.uuid, copy.id]);
  await queueAttachmentMessage(alice.profile, carol.profile.account.accountId, [
    { path: testFile(source, 'direct.bin', DIRECT.length, 'direct') },
  ]);
  for (const p of all) await p.engine.sendOutbox();
  for (const p of all) await p.engine.receive({ firstWaitMs: 200, idleMs: 0 });
  accounts = {
    alice: alice.profile.account.accountId,
    bob: bob.profile.account.accountId,
    carol: carol.profile.account.accountId,
  };
  expect(
    carol.profile.db
      .prepare('SELECT sender_account FROM group_messages WHERE uuid = ? ORDER BY sender_account')
      .all<{ sender_account: string }>([real.uuid])
      .map((r) => r.sender_account),
  ).toEqual([accounts.alice, accounts.bob].sort());
  shared = real.uuid;
  original = join(root, 'carol.age');
  await exportBackup(carol.profile, original, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  target = join(root, 'target');
  await importBackup(target, original, {
    passphrase: BACKUP_PASSPHRASE,
    create: { passphrase: RESTORED, kdfCost: TEST_KDF },
  });
}, 180_000);

/** A copy of the backup with each attachment record passed through `edit` (and the manifest's version set). */
async function edited(
  edit: (record: Record<string, unknown>) => void,
  version?: number,
): Promise<string> {
  const to = join(tempDir(), `${randomUUID()}.age`);
  await rewriteBackup(original, to, (record) => {
    if (record['type'] === 'manifest' && version !== undefined) record['version'] = version;
    if (record['type'] === 'attachment') edit(record);
    return record;
  });
  return to;
}

/** Restores `file` into a new profile: the report, and each restored file as (sender of its message, bytes). */
async function restore(file: string) {
  const dir = join(tempDir(), 'restored');
  const report = await importBackup(dir, file, {
    passphrase: BACKUP_PASSPHRASE,
    create: { passphrase: RESTORED, kdfCost: TEST_KDF },
  });
  const profile = await Profile.open(dir, { passphrase: RESTORED });
  afterTest(() => profile.close());
  const rows = profile.db
    .prepare(
      `SELECT a.id, coalesce(m.sender_account, g.sender_account) AS sender, coalesce(m.uuid, g.uuid) AS uuid
       FROM attachments a LEFT JOIN messages m ON m.id = a.message_id
       LEFT JOIN group_messages g ON g.id = a.group_message_id ORDER BY a.id`,
    )
    .all<{ id: number; sender: string; uuid: string }>();
  const out = tempDir();
  const files = [];
  for (const row of rows) {
    await saveAttachment(profile, row.id, join(out, String(row.id)));
    files.push({
      sender: row.sender,
      uuid: row.uuid,
      bytes: readFileSync(join(out, String(row.id))),
    });
  }
  return { report, files };
}

/** The code a merge into Carol's restored profile and a restore into a new one fail with; nothing written by either. */
const refused = (file: string) =>
  refusedEverywhere(file, {
    profileDir: target,
    passphrase: RESTORED,
    before: snapshotDir(target),
    fresh: join(root, randomUUID()),
    freshPassphrase: RESTORED,
  });

const by = (sender: string, bytes: Buffer) => ({ sender, bytes });

describe('attachment records name their message by sender and uuid', () => {
  it("two members' messages with one uuid each get their own file back, byte-identical", async () => {
    const { report, files } = await restore(original);
    expect(report.manifest.version).toBe(7);
    expect(report).toMatchObject({ attachmentsRestored: 3, attachmentsSkipped: 0 });
    const onShared = files.filter((f) => f.uuid === shared).map((f) => by(f.sender, f.bytes));
    expect(onShared).toHaveLength(2);
    expect(onShared).toEqual(
      expect.arrayContaining([by(accounts.alice, FILES.alice), by(accounts.bob, FILES.bob)]),
    );
    expect(files.filter((f) => f.uuid !== shared).map((f) => by(f.sender, f.bytes))).toEqual([
      by(accounts.alice, DIRECT),
    ]);
  }, 120_000);

  it('merged again into the profile it restored, every record is counted as skipped and no file is added', async () => {
    const files = () => readdirSync(join(target, 'attachments')).sort();
    const before = files();
    const again = await importBackup(target, original, {
      passphrase: BACKUP_PASSPHRASE,
      unlock: { passphrase: RESTORED },
    });
    expect(again).toMatchObject({ attachmentsRestored: 0, attachmentsSkipped: 3 });
    expect(files()).toEqual(before);
  }, 120_000);

  it('a version 6 file (no sender) attaches the shared uuid to nothing, counted, and restores the rest', async () => {
    const v6 = await edited((record) => delete record['senderAccount'], 6);
    const { report, files } = await restore(v6);
    expect(report).toMatchObject({ attachmentsRestored: 1, attachmentsSkipped: 2 });
    expect(files.map((f) => by(f.sender, f.bytes))).toEqual([by(accounts.alice, DIRECT)]);
  }, 120_000);

  it('a record naming a sender with no such message attaches nothing, is counted, and the rest restores', async () => {
    const stranger = await edited((record) => {
      if (record['groupMessage'] === shared && record['senderAccount'] === accounts.bob)
        record['senderAccount'] = randomUUID();
    });
    const { report, files } = await restore(stranger);
    expect(report).toMatchObject({ attachmentsRestored: 2, attachmentsSkipped: 1 });
    expect(files.map((f) => by(f.sender, f.bytes))).toEqual(
      expect.arrayContaining([by(accounts.alice, FILES.alice), by(accounts.alice, DIRECT)]),
    );
    // Carol's own account: the file is incoming, and Carol sent no message with that id.
    const own = await edited((record) => {
      if (record['message'] !== null) record['senderAccount'] = accounts.carol;
    });
    expect((await restore(own)).report).toMatchObject({
      attachmentsRestored: 2,
      attachmentsSkipped: 1,
    });
  }, 120_000);

  it.each([
    ['not an account id', 'alice'],
    ['an id of the first format (base32)', 'a'.repeat(32)],
    ['uppercase', '0190F0A2-1111-4222-8333-444455556666'],
    ['null', null],
    ['a number', 7],
    ['missing', undefined],
  ])('a senderAccount that is %s is BACKUP_TAMPERED; nothing is written', async (_, value) => {
    const forged = await edited((record) => {
      if (value === undefined) delete record['senderAccount'];
      else record['senderAccount'] = value;
    });
    expect(await refused(forged)).toBe('BACKUP_TAMPERED');
  });

  it('a senderAccount in a version 6 file is BACKUP_TAMPERED (an unknown member there)', async () => {
    expect(await refused(await edited(() => undefined, 6))).toBe('BACKUP_TAMPERED');
  });
});
