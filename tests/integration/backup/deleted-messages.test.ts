import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  deleteMessages,
  type EnvelopeOutcome,
  exportBackup,
  findContact,
  importBackup,
  messagesPage,
  processEnvelopes,
  Profile,
  publishedKeys,
  queueText,
  startSession,
  verifyBackup,
} from '../../../electron/core/index.ts';
import { queueMessageContent } from '../../../electron/core/messaging/outbox.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { encodeContent } from '../../../shared/protocol/content.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import {
  BACKUP_PASSPHRASE,
  readBackupLines,
  TEST_SCRYPT_LOG_N,
  writeBackupLines,
} from '../../support/backup.ts';
import { afterTest, befriend, enginePerson } from '../../support/engines.ts';
import { rejectedCode } from '../../support/errors.ts';
import { flushOutbox, introduce, newProfile, TEST_KDF, tempDir } from '../../support/profiles.ts';

// "Delete for me" in a backup (docs/backup-format.md#deleted-messages):
// version 5 carries the uuids of deleted incoming messages (version 6 with
// their senders), so a backup
// restored on a new machine drops a sender's resend of a deleted message
// instead of bringing it back. A file from before version 5 restores with
// none; forged records are refused before anything is written.

const RESTORED_PASSPHRASE = 'restored passphrase';

async function restore(file: string): Promise<string> {
  const dir = join(tempDir(), 'restored');
  await importBackup(dir, file, {
    passphrase: BACKUP_PASSPHRASE,
    create: { passphrase: RESTORED_PASSPHRASE, kdfCost: TEST_KDF },
  });
  return dir;
}

async function backUp(profile: Profile): Promise<string> {
  const file = join(tempDir(), 'backup.age');
  await exportBackup(profile, file, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  return file;
}

const deletedRows = (profile: Profile) =>
  profile.db
    .prepare(
      'SELECT uuid, sender_account AS senderAccount, deleted_at AS deletedAt FROM deleted_messages ORDER BY uuid',
    )
    .all<{ uuid: string; senderAccount: string | null; deletedAt: number }>();

const bodiesWith = (profile: Profile, name: string) =>
  messagesPage(profile.db, findContact(profile.db, name).conversationId, 1000)
    .map((m) => m.body)
    .reverse();

/** Bob got three messages from Alice and deleted two ("Delete for me"); returns his backup. */
async function bobDeletedTwo() {
  const { profile: alice } = await newProfile('Alice');
  const { profile: bob } = await newProfile('Bob');
  await introduce(alice, bob);
  for (const text of ['first gone', 'kept', 'second gone'])
    queueText(alice, bob.account.accountId, text);
  const outcomes = await processEnvelopes(bob, await flushOutbox(alice));
  const ids = outcomes.flatMap((o) => (o.outcome === 'stored' ? [o.messageId] : []));
  const conversationId = findContact(bob.db, 'Alice').conversationId;
  // Recent: entries older than DELETED_KEEP_MS are pruned when a profile opens.
  await deleteMessages(bob, { conversationId }, [ids[0]!, ids[2]!], Date.now() - 60_000);
  const deleted = deletedRows(bob);
  expect(deleted).toHaveLength(2);
  const gone = messagesPage(alice.db, findContact(alice.db, 'Bob').conversationId, 10).find(
    (m) => m.body === 'first gone',
  )!;
  return { file: await backUp(bob), deleted, alice, bobId: bob.account.accountId, gone };
}

/** A copy of `file` with every record passed through `edit` (which may drop one by returning undefined). */
async function edited(
  file: string,
  edit: (record: Record<string, unknown>) => Record<string, unknown> | undefined,
): Promise<string> {
  const to = join(tempDir(), 'edited.age');
  const records = (await readBackupLines(file)).flatMap((line) => {
    const record = edit(JSON.parse(line) as Record<string, unknown>);
    return record ? [JSON.stringify(record)] : [];
  });
  await writeBackupLines(to, records);
  return to;
}

/** The same file as version 5 wrote it: deletedMessage records without their sender. */
const asVersion5 = (file: string) =>
  edited(file, (record) => {
    if (record['type'] === 'deletedMessage') delete record['senderAccount'];
    if (record['type'] === 'manifest') record['version'] = 5;
    return record;
  });

/** The same file as version 4 wrote it: no deletedMessage records, no count for them. */
const asVersion4 = (file: string) =>
  edited(file, (record) => {
    if (record['type'] === 'deletedMessage') return undefined;
    if (record['type'] === 'manifest') {
      record['version'] = 4;
      delete (record['counts'] as Record<string, number>)['deletedMessage'];
    }
    return record;
  });

describe('deleted messages in a backup', () => {
  it('a backup restored on a new machine keeps a deleted message deleted when the sender resends it', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await enginePerson('Alice', relay);
    const bob = await enginePerson('Bob', relay);
    befriend(alice, bob);
    const bobId = bob.profile.account.accountId;
    queueText(alice.profile, bobId, 'delete me for good');
    queueText(alice.profile, bobId, 'this one stays');
    const sent = messagesPage(
      alice.profile.db,
      findContact(alice.profile.db, 'Bob').conversationId,
      10,
    ).find((m) => m.body === 'delete me for good')!;
    await alice.engine.sendOutbox();
    await bob.engine.receive({ firstWaitMs: 200 });
    const toAlice = findContact(bob.profile.db, 'Alice').conversationId;
    const doomed = messagesPage(bob.profile.db, toAlice, 10).find(
      (m) => m.body === 'delete me for good',
    )!;
    await deleteMessages(bob.profile, { conversationId: toAlice }, [doomed.id]);
    const file = await backUp(bob.profile);
    // The old device is retired.
    await bob.engine.close();
    await bob.profile.close();

    const restored = await Profile.open(await restore(file), { passphrase: RESTORED_PASSPHRASE });
    afterTest(() => restored.close());
    expect(deletedRows(restored).map((r) => r.uuid)).toEqual([sent.uuid]);
    expect(bodiesWith(restored, 'Alice')).toEqual(['this one stays']);
    const engine = new SyncEngine(restored);
    afterTest(() => engine.close());
    // The restored profile speaks first (a PreKey receipt); Alice's device moves to the new session.
    await engine.sendOutbox();
    await alice.engine.receive({ firstWaitMs: 200 });

    // Alice's device sends the deleted message again (new envelope id, same uuid), then a new one.
    const again = encodeContent({
      v: 1,
      type: 'text',
      id: sent.uuid,
      sentAt: sent.sentAt,
      body: 'delete me for good',
    });
    alice.profile.commit(undefined, (db) =>
      queueMessageContent(db, bobId, again, sent.id, Date.now()),
    );
    queueText(alice.profile, bobId, 'after the resend');
    await alice.engine.sendOutbox();
    const outcomes: EnvelopeOutcome[] = [];
    await engine.receive({ firstWaitMs: 200, onBatch: (batch) => outcomes.push(...batch) });
    // Both decrypted on the new session: the resend was dropped as a duplicate, not lost to an old ratchet.
    expect(outcomes.map((o) => o.outcome)).toEqual(expect.arrayContaining(['duplicate', 'stored']));
    expect(bodiesWith(restored, 'Alice')).toEqual(['this one stays', 'after the resend']);
  }, 120_000);

  it('every deleted message is a record with its sender and deletion time; a version 5 file restores them for any sender, a version 4 file with none', async () => {
    const { file, deleted } = await bobDeletedTwo();
    const lines = await readBackupLines(file);
    const manifest = JSON.parse(lines[0]!) as { version: number; counts: Record<string, number> };
    expect(manifest.version).toBe(7);
    expect(deleted.every((row) => row.senderAccount !== null)).toBe(true);
    expect(manifest.counts['deletedMessage']).toBe(2);
    const records = lines.filter((line) => line.startsWith('{"type":"deletedMessage"'));
    expect(records.map((line) => JSON.parse(line) as unknown)).toEqual(
      deleted.map((row) => ({ type: 'deletedMessage', ...row })),
    );
    expect((await verifyBackup(file, BACKUP_PASSPHRASE, { deep: true })).counts).toMatchObject({
      deletedMessage: 2,
    });

    const restored = await Profile.open(await restore(file), { passphrase: RESTORED_PASSPHRASE });
    afterTest(() => restored.close());
    expect(deletedRows(restored)).toEqual(deleted);
    expect(bodiesWith(restored, 'Alice')).toEqual(['kept']);

    const old = await Profile.open(await restore(await asVersion4(file)), {
      passphrase: RESTORED_PASSPHRASE,
    });
    afterTest(() => old.close());
    expect(deletedRows(old)).toEqual([]);
    expect(bodiesWith(old, 'Alice')).toEqual(['kept']);

    const v5 = await Profile.open(await restore(await asVersion5(file)), {
      passphrase: RESTORED_PASSPHRASE,
    });
    afterTest(() => v5.close());
    expect(deletedRows(v5)).toEqual(deleted.map((row) => ({ ...row, senderAccount: null })));
    expect(bodiesWith(v5, 'Alice')).toEqual(['kept']);
  }, 120_000);

  it('without the records (a version 4 file) the same resend comes back: what version 5 prevents', async () => {
    const { file, alice, bobId, gone } = await bobDeletedTwo();
    const again = encodeContent({
      v: 1,
      type: 'text',
      id: gone.uuid,
      sentAt: gone.sentAt,
      body: 'first gone',
    });
    /** Alice's device, on a new session with the profile restored in `dir`, sends the deleted message again. */
    const resend = async (dir: string) => {
      const restored = await Profile.open(dir, { passphrase: RESTORED_PASSPHRASE });
      afterTest(() => restored.close());
      await startSession(alice, takeBundle(publishedKeys(restored.db, restored.account), 0), bobId);
      alice.commit(undefined, (db) => queueMessageContent(db, bobId, again, gone.id, Date.now()));
      const outcomes = await processEnvelopes(restored, await flushOutbox(alice));
      return {
        outcomes: outcomes.map((o) => o.outcome),
        bodies: bodiesWith(restored, 'Alice').sort(),
      };
    };
    expect(await resend(await restore(file))).toEqual({
      outcomes: ['duplicate'],
      bodies: ['kept'],
    });
    expect(await resend(await restore(await asVersion4(file)))).toEqual({
      outcomes: ['stored'],
      bodies: ['first gone', 'kept'],
    });
  }, 120_000);

  it('forged records, one in a version 4 file, one out of order or a count that lies are BACKUP_TAMPERED; nothing is restored', async () => {
    const { file } = await bobDeletedTwo();
    const change = (patch: (record: Record<string, unknown>) => void) =>
      edited(file, (record) => {
        if (record['type'] === 'deletedMessage') patch(record);
        return record;
      });
    const forged: [string, (record: Record<string, unknown>) => void][] = [
      ['uuid not a uuid', (r) => (r['uuid'] = 'not-a-uuid')],
      ['uuid too long', (r) => (r['uuid'] = `${String(r['uuid'])}0`)],
      ['uuid empty', (r) => (r['uuid'] = '')],
      ['uuid a number', (r) => (r['uuid'] = 7)],
      ['uuid null', (r) => (r['uuid'] = null)],
      ['deletedAt negative', (r) => (r['deletedAt'] = -1)],
      ['deletedAt fractional', (r) => (r['deletedAt'] = 1.5)],
      ['deletedAt unsafe', (r) => (r['deletedAt'] = 2 ** 53)],
      ['deletedAt a string', (r) => (r['deletedAt'] = '1700000000000')],
      ['deletedAt missing', (r) => delete r['deletedAt']],
      ['senderAccount not an account id', (r) => (r['senderAccount'] = 'Alice')],
      ['senderAccount missing', (r) => delete r['senderAccount']],
      ['an unknown member', (r) => (r['body'] = 'resurrect me')],
    ];
    const cases: [string, string][] = [];
    for (const [name, patch] of forged) cases.push([name, await change(patch)]);
    cases.push([
      'a senderAccount in a version 5 file',
      await edited(file, (record) => {
        if (record['type'] === 'manifest') record['version'] = 5;
        return record;
      }),
    ]);
    cases.push([
      'a deletedMessage record in a version 4 file',
      await edited(file, (record) => {
        if (record['type'] === 'manifest') record['version'] = 4;
        return record;
      }),
    ]);
    const lines = await readBackupLines(file);
    const deleted = lines.filter((line) => line.startsWith('{"type":"deletedMessage"'));
    const before = join(tempDir(), 'out-of-order.age');
    await writeBackupLines(before, [
      lines[0]!,
      ...deleted,
      ...lines.slice(1).filter((line) => !deleted.includes(line)),
    ]);
    cases.push(['records before the messages', before]);
    cases.push([
      'a manifest count that lies',
      await edited(file, (record) => {
        if (record['type'] === 'manifest')
          (record['counts'] as Record<string, number>)['deletedMessage'] = 3;
        return record;
      }),
    ]);
    for (const [name, path] of cases) {
      expect(
        await rejectedCode(() => verifyBackup(path, BACKUP_PASSPHRASE, { deep: true })),
        name,
      ).toBe('BACKUP_TAMPERED');
      const dir = join(tempDir(), 'refused');
      expect(
        await rejectedCode(() =>
          importBackup(dir, path, {
            passphrase: BACKUP_PASSPHRASE,
            create: { passphrase: RESTORED_PASSPHRASE, kdfCost: TEST_KDF },
          }),
        ),
        name,
      ).toBe('BACKUP_TAMPERED');
      expect(existsSync(dir), name).toBe(false);
    }
  }, 240_000);

  it('a uuid listed twice restores once, with the first time; a merge keeps the entries a profile has and adds the rest', async () => {
    const { file, deleted } = await bobDeletedTwo();
    const lines = await readBackupLines(file);
    const first = lines.findIndex((line) => line.startsWith('{"type":"deletedMessage"'));
    const senderAccount = deleted[0]!.senderAccount;
    const record = (uuid: string, deletedAt: number) =>
      JSON.stringify({ type: 'deletedMessage', uuid, senderAccount, deletedAt });
    /** The backup with `extra` deletedMessage lines after its first one (the counts follow). */
    const withExtra = async (extra: readonly string[]) => {
      const manifest = JSON.parse(lines[0]!) as { counts: Record<string, number> };
      manifest.counts['deletedMessage'] = deleted.length + extra.length;
      const path = join(tempDir(), 'extra.age');
      await writeBackupLines(path, [
        JSON.stringify(manifest),
        ...lines.slice(1, first + 1),
        ...extra,
        ...lines.slice(first + 1),
      ]);
      return path;
    };
    const recent = Date.now();
    const dir = await restore(await withExtra([record(deleted[0]!.uuid, recent - 5)]));
    const restored = await Profile.open(dir, { passphrase: RESTORED_PASSPHRASE });
    expect(deletedRows(restored)).toEqual(deleted);
    await restored.close();

    // Merged into that profile: its own entries keep their times, a new uuid is added.
    const added = {
      uuid: '0190a5d2-7e1f-7c3a-9b2d-4f6e8a1c3b5d',
      senderAccount,
      deletedAt: recent - 7,
    };
    // A time in the future (a crafted file) is restored as the restore's time: it
    // would otherwise never age out of the 90-day window.
    const future = '0190a5d2-7e1f-7c3a-9b2d-4f6e8a1c3b5e';
    const merged = await withExtra([
      record(deleted[1]!.uuid, recent - 9),
      record(added.uuid, added.deletedAt),
      record(future, Date.UTC(2100, 0, 1)),
    ]);
    const beforeMerge = Date.now();
    await importBackup(dir, merged, {
      passphrase: BACKUP_PASSPHRASE,
      unlock: { passphrase: RESTORED_PASSPHRASE },
    });
    const afterMerge = Date.now();
    const reopened = await Profile.open(dir, { passphrase: RESTORED_PASSPHRASE });
    afterTest(() => reopened.close());
    const rows = deletedRows(reopened);
    expect(rows.filter((row) => row.uuid !== future)).toEqual(
      [...deleted, added].sort((a, b) => (a.uuid < b.uuid ? -1 : 1)),
    );
    const clamped = rows.find((row) => row.uuid === future)!.deletedAt;
    expect(clamped).toBeGreaterThanOrEqual(beforeMerge);
    expect(clamped).toBeLessThanOrEqual(afterMerge);
    expect(bodiesWith(reopened, 'Alice')).toEqual(['kept']);
  }, 120_000);

  it('merging a backup made before a Delete for me does not bring the deleted message back', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { dir, passphrase, profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    for (const text of ['kept', 'deleted after the backup'])
      queueText(alice, bob.account.accountId, text);
    const outcomes = await processEnvelopes(bob, await flushOutbox(alice));
    const ids = outcomes.flatMap((o) => (o.outcome === 'stored' ? [o.messageId] : []));
    const older = await backUp(bob);
    const conversationId = findContact(bob.db, 'Alice').conversationId;
    await deleteMessages(bob, { conversationId }, [ids[1]!], Date.now());
    await bob.close();

    await importBackup(dir, older, { passphrase: BACKUP_PASSPHRASE, unlock: { passphrase } });
    const merged = await Profile.open(dir, { passphrase });
    afterTest(() => merged.close());
    expect(bodiesWith(merged, 'Alice')).toEqual(['kept']);
    expect(deletedRows(merged)).toHaveLength(1);
  }, 120_000);
});
