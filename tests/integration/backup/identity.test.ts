import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBackup, importBackup, Profile, verifyBackup } from '../../../electron/core/index.ts';
import {
  addHistory,
  BACKUP_PASSPHRASE,
  digestsOf,
  legacyAccountId,
  profileDigests,
  readBackupLines,
  rewriteBackup,
  TEST_SCRYPT_LOG_N,
  writeBackupLines,
  writeLegacyBackup,
} from '../../support/backup.ts';
import { refusedEverywhere } from '../../support/backup-refusal.ts';
import { rejectedCode } from '../../support/errors.ts';
import { snapshotDir, TEST_KDF } from '../../support/profiles.ts';

// Account ids in backups: an id is its identity key (issue 9), so a backup
// whose keys name other accounts is refused before anything is written, and
// backups written before relay protocol v2 (base32 ids, inner version 1) are
// read with their ids mapped to the current ones.

let root: string;
let profileDir: string;
let file: string;
let accountId: string;
let before: Record<string, string>;
let digests: ReturnType<typeof profileDigests>;
/** What a version 1 backup of the same profile carries (no v2 routing state). */
let v1Digests: ReturnType<typeof profileDigests>;
const profilePassphrase = 'identity test profile passphrase';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sotto-backup-identity-'));
  profileDir = join(root, 'profile');
  const profile = await Profile.create(profileDir, {
    displayName: 'Ida',
    passphrase: profilePassphrase,
    kdfCost: TEST_KDF,
  });
  addHistory(profile, 120, { contacts: 4 });
  accountId = profile.account.accountId;
  digests = profileDigests(profile.db);
  v1Digests = profileDigests(profile.db, { version: 1 });
  file = join(root, 'current.age');
  await exportBackup(profile, file, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  await profile.close();
  before = snapshotDir(profileDir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
const next = (name: string) => join(root, `${name}-${++counter}`);

/** The code import fails with (into this profile and into a new one) and deep verify agrees; nothing is written. */
async function refusal(path: string): Promise<string | undefined> {
  return refusedEverywhere(path, {
    profileDir,
    passphrase: profilePassphrase,
    before,
    fresh: next('fresh'),
  });
}

describe('backups written before relay protocol v2 (base32 account ids)', () => {
  it('import into a new profile with every id mapped: the same account, contacts, conversations and messages', async () => {
    const legacy = next('legacy.age');
    const ids = await writeLegacyBackup(file, legacy);
    expect([...ids.values()].every((id) => /^[a-z2-7]{32}$/.test(id))).toBe(true);
    const text = (await readBackupLines(legacy)).join('\n');
    expect(text).toContain(`"version":1,`);
    expect(text).not.toContain(accountId);

    const report = await verifyBackup(legacy, BACKUP_PASSPHRASE, { deep: true });
    expect(report.manifest).toMatchObject({ version: 1, accountId });
    const restored = next('restored');
    const imported = await importBackup(restored, legacy, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'restored harbour kettle 5521', kdfCost: TEST_KDF },
    });
    expect(imported.messagesInserted).toBe(120);
    expect(await digestsOf(restored, 'restored harbour kettle 5521', { version: 1 })).toEqual(
      v1Digests,
    );
  });

  it('merge into the profile they came from (same account after mapping), adding nothing twice', async () => {
    const legacy = next('legacy.age');
    await writeLegacyBackup(file, legacy);
    const copy = next('copy');
    await importBackup(copy, file, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'copied harbour kettle 5521', kdfCost: TEST_KDF },
    });
    const merged = await importBackup(copy, legacy, {
      passphrase: BACKUP_PASSPHRASE,
      unlock: { passphrase: 'copied harbour kettle 5521' },
    });
    expect({
      inserted: merged.messagesInserted,
      skipped: merged.messagesSkipped,
      contacts: merged.contactsInserted,
    }).toEqual({
      inserted: 0,
      skipped: 120,
      contacts: 0,
    });
    expect(await digestsOf(copy, 'copied harbour kettle 5521')).toEqual(digests);
  });

  it('an id in the other format than the version says is BACKUP_TAMPERED (version 1 with a current id, version 2 with a base32 id)', async () => {
    const legacy = next('legacy.age');
    const ids = await writeLegacyBackup(file, legacy);
    const [contactId, contactLegacy] = [...ids].find(([id]) => id !== accountId)!;
    const mixedV1 = next('mixed-v1.age');
    await rewriteBackup(legacy, mixedV1, (r) =>
      r['type'] === 'contact' && r['accountId'] === contactLegacy
        ? { ...r, accountId: contactId }
        : r,
    );
    expect(await refusal(mixedV1)).toBe('BACKUP_TAMPERED');
    const mixedV2 = next('mixed-v2.age');
    await rewriteBackup(file, mixedV2, (r) =>
      r['type'] === 'message' && r['with'] === contactId ? { ...r, with: contactLegacy } : r,
    );
    expect(await refusal(mixedV2)).toBe('BACKUP_TAMPERED');
  });
});

describe('identity keys must derive the account ids they are stored under', () => {
  it('a contact whose identity key belongs to another account is IDENTITY_MISMATCH, nothing written', async () => {
    const stranger = IdentityKeyPair.generate().publicKey.serialize();
    const forged = next('forged-contact.age');
    let swapped = 0;
    await rewriteBackup(file, forged, (r) => {
      if (r['type'] !== 'contact' || swapped > 0) return r;
      swapped++;
      return {
        ...r,
        identity: {
          ...(r['identity'] as object),
          publicKey: Buffer.from(stranger).toString('base64'),
        },
      };
    });
    expect(swapped).toBe(1);
    // A plain verify checks integrity, not records: the file is authentic.
    expect((await verifyBackup(forged, BACKUP_PASSPHRASE)).counts.contact).toBe(4);
    expect(await refusal(forged)).toBe('IDENTITY_MISMATCH');
  });

  it('the same forgery in a version 1 backup (legacy id, stranger key) is IDENTITY_MISMATCH too', async () => {
    const legacy = next('legacy.age');
    await writeLegacyBackup(file, legacy);
    const stranger = IdentityKeyPair.generate().publicKey.serialize();
    const forged = next('forged-legacy.age');
    await rewriteBackup(legacy, forged, (r) =>
      r['type'] === 'contact'
        ? {
            ...r,
            identity: {
              ...(r['identity'] as object),
              publicKey: Buffer.from(stranger).toString('base64'),
            },
          }
        : r,
    );
    expect(await refusal(forged)).toBe('IDENTITY_MISMATCH');
  });

  it("an account record whose key pair is another account's is IDENTITY_MISMATCH", async () => {
    const forged = next('forged-account.age');
    await rewriteBackup(file, forged, (r) =>
      r['type'] === 'account'
        ? {
            ...r,
            identityKeyPair: Buffer.from(IdentityKeyPair.generate().serialize()).toString('base64'),
          }
        : r,
    );
    expect(await refusal(forged)).toBe('IDENTITY_MISMATCH');
  });

  it('an account record whose public half is right but whose private key is not its own is IDENTITY_MISMATCH', async () => {
    const lines = await readBackupLines(file);
    const account = JSON.parse(lines.find((l) => l.startsWith('{"type":"account"'))!) as {
      identityKeyPair: string;
    };
    const own = IdentityKeyPair.deserialize(Buffer.from(account.identityKeyPair, 'base64'));
    const spliced = new IdentityKeyPair(own.publicKey, IdentityKeyPair.generate().privateKey);
    const forged = next('spliced-account.age');
    await rewriteBackup(file, forged, (r) =>
      r['type'] === 'account'
        ? { ...r, identityKeyPair: Buffer.from(spliced.serialize()).toString('base64') }
        : r,
    );
    expect(await refusal(forged)).toBe('IDENTITY_MISMATCH');
  });

  it('a self-consistent backup of another account passes as that account (new profile) and is BACKUP_WRONG_ACCOUNT here', async () => {
    const other = IdentityKeyPair.generate();
    const otherId = legacyAccountId(other.publicKey.serialize());
    const legacy = next('legacy.age');
    await writeLegacyBackup(file, legacy);
    const moved = next('other-account.age');
    await rewriteBackup(legacy, moved, (r) => {
      if (r['type'] === 'manifest') return { ...r, accountId: otherId };
      if (r['type'] === 'account')
        return {
          ...r,
          accountId: otherId,
          identityKeyPair: Buffer.from(other.serialize()).toString('base64'),
        };
      if (r['type'] === 'message' && r['outgoing'] === true)
        return { ...r, senderAccount: otherId };
      return r;
    });
    expect(
      await rejectedCode(() =>
        importBackup(profileDir, moved, {
          passphrase: BACKUP_PASSPHRASE,
          unlock: { passphrase: profilePassphrase },
        }),
      ),
    ).toBe('BACKUP_WRONG_ACCOUNT');
    expect(
      (await verifyBackup(moved, BACKUP_PASSPHRASE, { deep: true })).manifest.accountId,
    ).not.toBe(accountId);
  });

  it('a message filed under one contact but from another, or an outgoing one from a contact, is BACKUP_TAMPERED', async () => {
    const lines = await readBackupLines(file);
    const messages = lines
      .filter((l) => l.startsWith('{"type":"message"'))
      .map((l) => JSON.parse(l) as { with: string; outgoing: boolean });
    const incoming = messages.find((m) => !m.outgoing)!;
    const otherContact = messages.find((m) => m.with !== incoming.with)!.with;
    let forgedOnce = false;
    const misattributed = next('misattributed.age');
    await rewriteBackup(file, misattributed, (r) => {
      if (r['type'] !== 'message' || r['outgoing'] !== false || forgedOnce) return r;
      forgedOnce = true;
      return { ...r, senderAccount: otherContact === r['with'] ? accountId : otherContact };
    });
    expect(await refusal(misattributed)).toBe('BACKUP_TAMPERED');
    let spoofedOnce = false;
    const spoofed = next('outgoing-from-contact.age');
    await rewriteBackup(file, spoofed, (r) => {
      if (r['type'] !== 'message' || r['outgoing'] !== true || spoofedOnce) return r;
      spoofedOnce = true;
      return { ...r, senderAccount: r['with'] };
    });
    expect(await refusal(spoofed)).toBe('BACKUP_TAMPERED');
  });

  it('key bytes libsignal cannot parse are BACKUP_TAMPERED', async () => {
    const forged = next('garbage-key.age');
    await rewriteBackup(file, forged, (r) =>
      r['type'] === 'contact'
        ? {
            ...r,
            identity: {
              ...(r['identity'] as object),
              publicKey: Buffer.alloc(33, 9).toString('base64'),
            },
          }
        : r,
    );
    expect(await refusal(forged)).toBe('BACKUP_TAMPERED');
  });

  it('a manifest and account record that disagree, or two account records, are BACKUP_TAMPERED', async () => {
    const lines = await readBackupLines(file);
    const account = lines.find((l) => l.startsWith('{"type":"account"'))!;
    const manifest = JSON.parse(lines[0]!) as { counts: { account: number } };
    manifest.counts.account = 2;
    const twice = next('two-accounts.age');
    await writeBackupLines(twice, [JSON.stringify(manifest), account, ...lines.slice(1)]);
    expect(await refusal(twice)).toBe('BACKUP_TAMPERED');
  });
});
