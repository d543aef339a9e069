import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { Decrypter, Encrypter } from 'age-encryption';
import { afterEach, describe, expect, it } from 'vitest';
import { exportBackup } from '../../../electron/core/backup/export.ts';
import { importBackup } from '../../../electron/core/backup/import.ts';
import { readBackup, verifyBackup } from '../../../electron/core/backup/verify.ts';
import { rejectedCode } from '../../support/errors.ts';
import type { DataRecord } from '../../../electron/core/backup/format/records.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { groupUnread } from '../../../electron/core/groups/group-read.ts';
import { loadGroup } from '../../../electron/core/groups/group-store.ts';
import { Profile } from '../../../electron/core/profile/profile.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { BACKUP_PASSPHRASE, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { aliceAndBob, aliceBobCarol, type Person, settle } from '../../support/group-world.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';

// Backups carry groups (state, members, history) and never sender keys:
// after a restore the device starts a new chain, and the members read its
// next message because they get its distribution message first.

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

function bodies(p: Person, groupId: string): string[] {
  const group = loadGroup(p.profile.db, groupId);
  if (!group) return [];
  return p.profile.db
    .prepare('SELECT body FROM group_messages WHERE group_ref = ? ORDER BY sent_at, id', {
      pluck: true,
    })
    .all<string>([group.ref]);
}

const count = (p: Person, table: string) =>
  Number(p.profile.db.prepare(`SELECT count(*) FROM ${table}`, { pluck: true }).get());

describe('groups in backups', () => {
  it('restores group state and history without chain keys; the next send starts a new chain members decrypt', async () => {
    const { alice, bob, carol, group } = await aliceBobCarol('Archive');
    queueGroupText(alice.profile, group.groupId, 'one from Alice');
    await settle([alice, bob, carol]);
    queueGroupText(bob.profile, group.groupId, 'one from Bob');
    await settle([alice, bob, carol]);
    const before = loadGroup(bob.profile.db, group.groupId)!;
    const history = bodies(bob, group.groupId);
    expect(history).toEqual(['one from Alice', 'one from Bob']);
    const chainRecords = bob.profile.db
      .prepare('SELECT record FROM sender_keys', { pluck: true })
      .all<Uint8Array<ArrayBuffer>>()
      .map((r) => Buffer.from(r).toString('base64'));
    expect(chainRecords.length).toBeGreaterThan(0);

    const file = join(tempDir(), 'bob.sotto-backup');
    await exportBackup(bob.profile, file, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    const records: DataRecord[] = [];
    await readBackup(file, BACKUP_PASSPHRASE, {
      phase: 'verify',
      onRecords: (r) => void records.push(...r),
    });
    expect(records.filter((r) => r.type === 'group')).toHaveLength(1);
    expect(records.filter((r) => r.type === 'groupMessage')).toHaveLength(2);
    const stream = JSON.stringify(records);
    for (const chain of chainRecords) expect(stream).not.toContain(chain.slice(0, 40));

    // Bob's device is gone; he restores on a new one.
    await bob.engine.close();
    await bob.profile.close();
    const dir = join(tempDir(), 'restored');
    await importBackup(dir, file, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: bob.passphrase, kdfCost: TEST_KDF },
    });
    const profile = await Profile.open(dir, { passphrase: bob.passphrase });
    opened.push(profile);
    const engine = new SyncEngine(profile);
    opened.push(engine);
    await engine.registerToken();
    await engine.publishKeys();
    const restored: Person = { ...bob, dir, profile, engine };
    const after = loadGroup(profile.db, group.groupId)!;
    expect(after.state).toEqual(before.state);
    expect(after.standing).toBe('member');
    expect(bodies(restored, group.groupId)).toEqual(history);
    // Read markers are local row ids: restored group history counts as read (migration 0012).
    expect(groupUnread(profile.db, after.ref)).toBe(0);
    for (const table of ['sender_keys', 'own_sender_keys', 'sender_key_shared'])
      expect(count(restored, table)).toBe(0);

    queueGroupText(profile, group.groupId, 'Bob, restored');
    const all = [alice, restored, carol];
    await settle(all);
    for (const p of [alice, carol])
      expect(bodies(p, group.groupId)).toEqual([...history, 'Bob, restored']);
    // A new chain: another distribution id than the one members held from before.
    const distributions = alice.profile.db
      .prepare('SELECT count(DISTINCT distribution_id) FROM sender_keys WHERE address LIKE ?', {
        pluck: true,
      })
      .get([`${profile.account.accountId}.%`]);
    expect(Number(distributions)).toBe(2);
    // And the restored device reads the members again (it asks for their chains).
    queueGroupText(carol.profile, group.groupId, 'welcome back');
    await settle(all);
    expect(bodies(restored, group.groupId)).toContain('welcome back');
    expect(groupUnread(profile.db, after.ref)).toBe(1);
  }, 300_000);

  it('a backup whose group member key does not derive its id, or whose outgoing group message names another sender, is refused', async () => {
    const { alice, bob, group } = await aliceAndBob('Tampered');
    queueGroupText(alice.profile, group.groupId, 'mine');
    await settle([alice, bob]);
    const file = join(tempDir(), 'alice.sotto-backup');
    await exportBackup(alice.profile, file, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    const bobId = bob.profile.account.accountId;
    const aliceId = alice.profile.account.accountId;
    // Bob's card under a stranger's key; Alice's own message claimed by Bob.
    const strangerKey = Buffer.from(IdentityKeyPair.generate().publicKey.serialize()).toString(
      'base64',
    );
    const bobKey = Buffer.from(bob.profile.account.identity.publicKey.serialize()).toString(
      'base64',
    );
    const forgedMember = await rewritten(file, (line) =>
      line.startsWith('{"type":"group",') ? line.replace(bobKey, strangerKey) : line,
    );
    const forgedSender = await rewritten(file, (line) =>
      line.startsWith('{"type":"groupMessage",')
        ? line.replace(`"senderAccount":"${aliceId}"`, `"senderAccount":"${bobId}"`)
        : line,
    );
    expect(
      await rejectedCode(() => verifyBackup(forgedMember, BACKUP_PASSPHRASE, { deep: true })),
    ).toBe('IDENTITY_MISMATCH');
    expect(
      await rejectedCode(() => verifyBackup(forgedSender, BACKUP_PASSPHRASE, { deep: true })),
    ).toBe('BACKUP_TAMPERED');
    const dir = join(tempDir(), 'never');
    expect(
      await rejectedCode(() =>
        importBackup(dir, forgedMember, {
          passphrase: BACKUP_PASSPHRASE,
          create: { passphrase: 'a fresh passphrase for it', kdfCost: TEST_KDF },
        }),
      ),
    ).toBe('IDENTITY_MISMATCH');
    expect(existsSync(dir)).toBe(false);
  }, 300_000);
});

/** The backup with each inner line passed through `edit`, its trailer's hash made to match again. */
async function rewritten(file: string, edit: (line: string) => string): Promise<string> {
  const decrypter = new Decrypter();
  decrypter.addPassphrase(BACKUP_PASSPHRASE);
  const text = Buffer.from(await decrypter.decrypt(readFileSync(file))).toString('utf8');
  const lines = text.replace(/\n+$/, '').split('\n');
  const body = lines.slice(0, -1).map(edit);
  const trailer = JSON.parse(lines.at(-1)!) as { counts: unknown };
  const before = `${body.join('\n')}\n`;
  const sha256 = createHash('sha256').update(before, 'utf8').digest('hex');
  const stream = `${before}${JSON.stringify({ type: 'trailer', counts: trailer.counts, sha256 })}\n`;
  const encrypter = new Encrypter();
  encrypter.setScryptWorkFactor(TEST_SCRYPT_LOG_N);
  encrypter.setPassphrase(BACKUP_PASSPHRASE);
  const out = join(tempDir(), 'tampered.sotto-backup');
  writeFileSync(out, await encrypter.encrypt(stream));
  return out;
}
