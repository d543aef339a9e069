import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addContact,
  blockContact,
  exportBackup,
  importBackup,
  Profile,
  verifyBackup,
} from '../../../electron/core/index.ts';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import {
  BACKUP_PASSPHRASE,
  readBackupLines,
  TEST_SCRYPT_LOG_N,
  writeBackupLines,
  writeLegacyBackup,
} from '../../support/backup.ts';
import { refusedEverywhere } from '../../support/backup-refusal.ts';
import { rejectedCode } from '../../support/errors.ts';
import { snapshotDir, TEST_KDF, TEST_RELAY, TEST_RELAY_ID } from '../../support/profiles.ts';

// Version 2 records carry the state relay protocol v2 and the identity rules
// added (migrations 0006, 0007): this account's token and relay id, each
// contact's route, block and move, and the key lifecycle. Every such member
// is checked on the way in: a forged one is refused before anything is written.

const PASS = 'v2 records harbour kettle 5521';
let root: string;
let dir: string;
let file: string;
const ids: Record<'bob' | 'carol' | 'dave' | 'daveNew', string> = {
  bob: '',
  carol: '',
  dave: '',
  daveNew: '',
};
let daveNewKey: IdentityKeyPair;

const newIdentity = () => {
  const pair = IdentityKeyPair.generate();
  return { pair, accountId: deriveAccountId(pair.publicKey) };
};
const card = (who: ReturnType<typeof newIdentity>, name: string) => ({
  accountId: who.accountId,
  identityKey: who.pair.publicKey.serialize(),
  displayName: name,
  relay: TEST_RELAY,
  relayId: TEST_RELAY_ID,
  token: randomBytes(16),
});

/** Every table a restore of the v2 state writes, as comparable rows. */
function v2State(db: Profile['db']) {
  const all = (sql: string) => db.prepare(sql).all();
  return {
    settings: all(
      "SELECT key, value FROM settings WHERE key IN ('delivery.token', 'relay.id') ORDER BY key",
    ),
    contacts: all(
      'SELECT account_id, relay, relay_id, hex(delivery_token), token_sent_at, blocked FROM contacts ORDER BY account_id',
    ),
    moves: all(
      'SELECT from_account, to_account, hex(identity_key), relay, relay_id, token, issued_at, received_at, accepted_at FROM identity_moves',
    ),
    signed: all(
      'SELECT id, hex(record), created_at, state, superseded_at FROM signed_pre_keys ORDER BY id',
    ),
    kyber: all(
      'SELECT id, hex(record), last_resort, published, state, superseded_at, handed_out_at FROM kyber_pre_keys WHERE last_resort = 1 OR published = 1 ORDER BY id',
    ),
    pre: all(
      'SELECT id, hex(record), published, handed_out_at FROM pre_keys WHERE published = 1 ORDER BY id',
    ),
  };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sotto-backup-v2-'));
  dir = join(root, 'profile');
  const profile = await Profile.create(dir, {
    displayName: 'Alice',
    passphrase: PASS,
    kdfCost: TEST_KDF,
  });
  const bob = newIdentity();
  const carol = newIdentity();
  const dave = newIdentity();
  const daveNew = newIdentity();
  daveNewKey = daveNew.pair;
  Object.assign(ids, {
    bob: bob.accountId,
    carol: carol.accountId,
    dave: dave.accountId,
    daveNew: daveNew.accountId,
  });
  addContact(profile, card(bob, 'Bob'));
  addContact(profile, card(carol, 'Carol'));
  addContact(profile, card(dave, 'Dave'));
  blockContact(profile, carol.accountId);
  const now = Date.now();
  profile.commit(undefined, (db) => {
    db.prepare(
      "INSERT INTO settings (key, value) VALUES ('relay.id', ?), ('delivery.tokenRegisteredWith', ?), ('ui.theme', 'dark')",
    ).run([TEST_RELAY_ID, TEST_RELAY]);
    db.prepare('UPDATE contacts SET token_sent_at = ? WHERE account_id = ?').run([
      now - 5000,
      bob.accountId,
    ]);
    // A pending move, as identity-move.ts records a genuine notice.
    db.prepare(
      `INSERT INTO identity_moves (from_account, to_account, identity_key, relay, relay_id, token, issued_at, received_at, accepted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
    ).run([
      dave.accountId,
      daveNew.accountId,
      daveNew.pair.publicKey.serialize(),
      TEST_RELAY,
      TEST_RELAY_ID,
      randomBytes(16).toString('base64'),
      now - 2000,
      now - 1000,
    ]);
    // The key maintenance's states: a replaced signed key, published and handed-out one-time keys, an unpublished one.
    db.prepare("UPDATE signed_pre_keys SET state = 'previous', superseded_at = ?").run([
      now - 9000,
    ]);
    db.prepare(
      "INSERT INTO signed_pre_keys (id, record, created_at, state) SELECT id + 1000, record, ?, 'current' FROM signed_pre_keys LIMIT 1",
    ).run([now - 8000]);
    db.prepare(
      'UPDATE pre_keys SET published = 1 WHERE id IN (SELECT id FROM pre_keys ORDER BY id LIMIT 3)',
    ).run();
    db.prepare(
      'UPDATE pre_keys SET handed_out_at = ? WHERE id IN (SELECT id FROM pre_keys ORDER BY id LIMIT 1)',
    ).run([now - 7000]);
    db.prepare(
      'UPDATE kyber_pre_keys SET published = 1, handed_out_at = ? WHERE id IN (SELECT id FROM kyber_pre_keys WHERE last_resort = 0 ORDER BY id LIMIT 1)',
    ).run([now - 6000]);
  });
  file = join(root, 'good.age');
  await exportBackup(profile, file, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  await profile.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
const next = (name: string) => join(root, `${name}-${++counter}`);

/** The code import fails with, as a merge and into a new profile (a deep verify agrees); nothing written. */
async function refusal(path: string): Promise<string | undefined> {
  return refusedEverywhere(path, {
    profileDir: dir,
    passphrase: PASS,
    before: snapshotDir(dir),
    fresh: next('fresh'),
    freshPassphrase: PASS,
  });
}

/** The backup with the records of `type` passed through `edit` (hash and counts recomputed). */
async function edited(
  type: string,
  edit: (record: Record<string, unknown>) => Record<string, unknown> | null,
  which = 0,
): Promise<string> {
  const lines = await readBackupLines(file);
  let seen = 0;
  const out: string[] = [];
  for (const line of lines) {
    const record = JSON.parse(line) as Record<string, unknown>;
    if (record['type'] === type && seen++ === which) {
      const changed = edit(record);
      if (changed) out.push(JSON.stringify(changed));
    } else out.push(line);
  }
  expect(seen, `a ${type} record to edit`).toBeGreaterThan(which);
  const path = next('edited.age');
  await writeBackupLines(path, out);
  return path;
}
const contactOf =
  (id: () => string) => async (edit: (c: Record<string, unknown>) => Record<string, unknown>) => {
    const lines = await readBackupLines(file);
    const index = lines
      .filter((l) => l.startsWith('{"type":"contact"'))
      .findIndex((l) => l.includes(id()));
    return edited('contact', edit, index);
  };

describe('version 2 records', () => {
  it('carry the token, relay id, routes, block, move and key lifecycle; a restore brings them back exactly', async () => {
    const text = (await readBackupLines(file)).join('\n');
    // Not carried: where the token was registered, the key publication mark; unpublished one-time keys.
    expect(text).not.toContain('tokenRegisteredWith');
    expect(text).not.toContain('keys.publishedTo');
    const source = await Profile.open(dir, { passphrase: PASS });
    const expected = v2State(source.db);
    const unpublished = Number(
      source.db.prepare('SELECT count(*) FROM pre_keys WHERE published = 0', { pluck: true }).get(),
    );
    await source.close();
    expect(unpublished).toBeGreaterThan(0);
    expect(expected.contacts).toHaveLength(3);

    const restored = next('restored');
    await importBackup(restored, file, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: PASS, kdfCost: TEST_KDF },
    });
    const profile = await Profile.open(restored, { passphrase: PASS });
    try {
      expect(v2State(profile.db)).toEqual(expected);
      const db = profile.db;
      expect(
        db.prepare("SELECT value FROM settings WHERE key = 'delivery.tokenRegisteredWith'").get(),
      ).toBeUndefined();
      // Only the published one-time keys came back; the stock is refilled under the jumped counters.
      expect(Number(db.prepare('SELECT count(*) FROM pre_keys', { pluck: true }).get())).toBe(
        expected.pre.length,
      );
      // The restored token goes to every unblocked contact with a token (Bob, Dave), never to Carol.
      const tokenShares = db
        .prepare("SELECT recipient FROM outbox WHERE kind = 'token' ORDER BY recipient", {
          pluck: true,
        })
        .all();
      expect(tokenShares).toEqual([ids.bob, ids.dave].sort());
    } finally {
      await profile.close();
    }
  });

  it('tampered token and relay id members are BACKUP_TAMPERED, nothing written', async () => {
    const short = randomBytes(15).toString('base64');
    expect(await refusal(await edited('account', (r) => ({ ...r, deliveryToken: short })))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(await refusal(await edited('account', (r) => ({ ...r, deliveryToken: null })))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(
      await refusal(await edited('account', (r) => ({ ...r, relayId: 'not a relay id' }))),
    ).toBe('BACKUP_TAMPERED');
    const bob = contactOf(() => ids.bob);
    expect(await refusal(await bob((r) => ({ ...r, deliveryToken: short })))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(
      await refusal(await bob((r) => ({ ...r, deliveryToken: randomBytes(16).toString('hex') }))),
    ).toBe('BACKUP_TAMPERED');
    expect(await refusal(await bob((r) => ({ ...r, relayId: `${TEST_RELAY_ID}A` })))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(await refusal(await bob((r) => ({ ...r, tokenSentAt: -1 })))).toBe('BACKUP_TAMPERED');
    expect(await refusal(await bob((r) => ({ ...r, blocked: 0 })))).toBe('BACKUP_TAMPERED');
    // A member left out, or one that is not in the table.
    expect(await refusal(await bob(({ blocked: _, ...r }) => r))).toBe('BACKUP_TAMPERED');
    expect(await refusal(await bob((r) => ({ ...r, tokenRegisteredWith: TEST_RELAY })))).toBe(
      'BACKUP_TAMPERED',
    );
    // The settings that have typed homes are not settings in version 2.
    for (const key of [
      'delivery.token',
      'relay.id',
      'delivery.tokenRegisteredWith',
      'keys.publishedTo',
    ]) {
      expect(await refusal(await edited('setting', (r) => ({ ...r, key })))).toBe(
        'BACKUP_TAMPERED',
      );
    }
  });

  it("a forged move is refused: another account's key is IDENTITY_MISMATCH; a move to itself or to us, BACKUP_TAMPERED", async () => {
    const dave = contactOf(() => ids.dave);
    const move = (r: Record<string, unknown>) => r['move'] as Record<string, unknown>;
    const stranger = IdentityKeyPair.generate().publicKey.serialize();
    expect(
      await refusal(
        await dave((r) => ({
          ...r,
          move: { ...move(r), identityKey: Buffer.from(stranger).toString('base64') },
        })),
      ),
    ).toBe('IDENTITY_MISMATCH');
    expect(await refusal(await dave((r) => ({ ...r, move: { ...move(r), to: ids.dave } })))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(await refusal(await dave((r) => ({ ...r, move: { ...move(r), token: 'short' } })))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(await refusal(await dave((r) => ({ ...r, move: { ...move(r), extra: 1 } })))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(
      await refusal(await dave((r) => ({ ...r, move: { ...move(r), identityKey: 'AAAA' } }))),
    ).toBe('BACKUP_TAMPERED');
    expect(daveNewKey).toBeDefined();
  });

  it('key states the maintenance never makes are BACKUP_TAMPERED', async () => {
    const key =
      (kind: string, edit: (r: Record<string, unknown>) => Record<string, unknown>) => async () => {
        const lines = (await readBackupLines(file)).filter((l) => l.startsWith('{"type":"key"'));
        return edited(
          'key',
          edit,
          lines.findIndex((l) => l.includes(`"kind":"${kind}"`)),
        );
      };
    const cases = [
      key('pre', (r) => ({ ...r, state: 'previous', supersededAt: 1 })),
      key('pre', (r) => ({ ...r, published: false })),
      key('signed', (r) => ({ ...r, state: 'previous', supersededAt: null })),
      key('signed', (r) => ({ ...r, handedOutAt: 1 })),
      key('signed', (r) => ({ ...r, state: 'retired' })),
      key('signed', ({ state: _, ...r }) => r),
    ];
    for (const make of cases) expect(await refusal(await make())).toBe('BACKUP_TAMPERED');
  });

  it('version 1 stays frozen: a version 2 member in a version 1 record is BACKUP_TAMPERED; without them it restores', async () => {
    const legacy = next('legacy.age');
    await writeLegacyBackup(file, legacy);
    const lines = await readBackupLines(legacy);
    const contact = lines.findIndex((l) => l.startsWith('{"type":"contact"'));
    for (const member of [
      '"blocked":true',
      `"deliveryToken":"${randomBytes(16).toString('base64')}"`,
    ]) {
      const changed = [...lines];
      changed[contact] = changed[contact]!.replace('"createdAt":', `${member},"createdAt":`);
      const path = next('legacy-v2-member.age');
      await writeBackupLines(path, changed);
      expect(await refusal(path)).toBe('BACKUP_TAMPERED');
    }
    expect(
      await rejectedCode(() => verifyBackup(legacy, BACKUP_PASSPHRASE, { deep: true })),
    ).toBeUndefined();
  });

  it('names follow the display-name rule: 1,000 characters, control characters or an untrimmed name are BACKUP_TAMPERED', async () => {
    for (const name of ['x'.repeat(1000), 'Bob\u0007', 'Bob\u202e', ' Bob', '']) {
      expect(
        await refusal(await contactOf(() => ids.bob)((r) => ({ ...r, displayName: name }))),
      ).toBe('BACKUP_TAMPERED');
      expect(await refusal(await edited('account', (r) => ({ ...r, displayName: name })))).toBe(
        'BACKUP_TAMPERED',
      );
    }
  });

  it('a merge keeps the safer side: blocked if either side is, the newer contact token, the live own token', async () => {
    const copy = next('copy');
    await importBackup(copy, file, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: PASS, kdfCost: TEST_KDF },
    });
    const live = await Profile.open(copy, { passphrase: PASS });
    const newer = randomBytes(16);
    const now = Date.now();
    live.commit(undefined, (db) => {
      db.prepare('UPDATE contacts SET blocked = 0 WHERE account_id = ?').run([ids.carol]); // unblocked after the backup
      db.prepare('UPDATE contacts SET blocked = 1 WHERE account_id = ?').run([ids.bob]); // blocked after it
      db.prepare(
        'UPDATE contacts SET delivery_token = ?, token_sent_at = ? WHERE account_id = ?',
      ).run([newer, now, ids.bob]);
      db.prepare(
        'UPDATE contacts SET delivery_token = NULL, token_sent_at = NULL, relay_id = NULL WHERE account_id = ?',
      ).run([ids.dave]);
      // A live contact on another relay, its id not known yet: the backup's id belongs to the old relay.
      db.prepare(
        "UPDATE contacts SET relay = 'wss://elsewhere.test.invalid', relay_id = NULL WHERE account_id = ?",
      ).run([ids.carol]);
      db.prepare("UPDATE settings SET value = ? WHERE key = 'delivery.token'").run([
        randomBytes(16).toString('hex'),
      ]);
    });
    const liveToken = live.db
      .prepare("SELECT value FROM settings WHERE key = 'delivery.token'", { pluck: true })
      .get();
    await live.close();
    const source = await Profile.open(dir, { passphrase: PASS });
    const daveToken = source.db
      .prepare('SELECT hex(delivery_token) FROM contacts WHERE account_id = ?', { pluck: true })
      .get([ids.dave]);
    await source.close();

    await importBackup(copy, file, { passphrase: BACKUP_PASSPHRASE, unlock: { passphrase: PASS } });
    const merged = await Profile.open(copy, { passphrase: PASS });
    try {
      const row = (id: string) =>
        merged.db
          .prepare(
            'SELECT hex(delivery_token) AS token, blocked FROM contacts WHERE account_id = ?',
          )
          .get<{ token: string; blocked: number }>([id]);
      const relayOf = (id: string) =>
        merged.db
          .prepare('SELECT relay, relay_id AS relayId FROM contacts WHERE account_id = ?')
          .get([id]);
      expect(relayOf(ids.dave)).toEqual({ relay: TEST_RELAY, relayId: TEST_RELAY_ID });
      expect(relayOf(ids.carol)).toEqual({ relay: 'wss://elsewhere.test.invalid', relayId: null });
      expect(row(ids.carol)?.blocked).toBe(1);
      expect(row(ids.bob)).toEqual({ token: newer.toString('hex').toUpperCase(), blocked: 1 });
      expect(row(ids.dave)?.token).toBe(daveToken);
      expect(
        merged.db
          .prepare("SELECT value FROM settings WHERE key = 'delivery.token'", { pluck: true })
          .get(),
      ).toBe(liveToken);
    } finally {
      await merged.close();
    }
  });
});
