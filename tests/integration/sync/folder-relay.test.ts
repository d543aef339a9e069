import { randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedKeys } from '../../../electron/core/crypto/prekeys.ts';
import type { Profile } from '../../../electron/core/profile/profile.ts';
import { FolderHomeRelay } from '../../../electron/core/sync/folder-home-relay.ts';
import { FolderRelay } from '../../../electron/core/sync/folder-relay.ts';
import type { SealedSubmission } from '../../../electron/core/sync/relay.ts';
import type { RelayIdPin } from '../../../electron/core/sync/ws-connection.ts';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';

// The folder relay on its own: layout, what its files hold, and what a
// hostile writer of the shared folder can and cannot make it do.

function pinned(): RelayIdPin & { id: string | undefined } {
  const pin = {
    id: undefined as string | undefined,
    expected: () => pin.id,
    remember: (relayId: string) => {
      pin.id = relayId;
    },
  };
  return pin;
}

async function homeOf(profile: Profile, root: string): Promise<FolderHomeRelay> {
  const home = new FolderHomeRelay(
    root,
    { accountId: profile.account.accountId, deviceId: 1 },
    pinned(),
  );
  return Promise.resolve(home);
}

function to(profile: Profile, token: Uint8Array, body = randomBytes(300)): SealedSubmission {
  return {
    clientMessageId: randomUUID(),
    recipient: profile.account.accountId,
    recipientDevice: 1,
    token,
    body,
  };
}

/** Bob's folder relay with keys and a token; Alice's anonymous view of it. */
async function setUp() {
  const root = join(tempDir(), 'relay');
  const { profile: bob } = await newProfile('Bob');
  const { profile: alice } = await newProfile('Alice');
  const bobHome = await homeOf(bob, root);
  const token = randomBytes(16);
  await bobHome.registerToken(token);
  await bobHome.publishKeys(publishedKeys(bob.db, bob.account));
  const relayId = (
    JSON.parse(readFileSync(join(root, 'relay.json'), 'utf8')) as { relayId: string }
  ).relayId;
  const asAlice = new FolderRelay(root, { expected: () => relayId });
  const mailbox = join(root, 'mail', `${bob.account.accountId}.1`);
  return { root, bob, alice, bobHome, token, relayId, asAlice, mailbox };
}

describe('folder relay', () => {
  it('creates relay.json with a relay id on first use by its owner and pins it', async () => {
    const root = join(tempDir(), 'relay');
    const { profile } = await newProfile('Bob');
    const pin = pinned();
    const home = new FolderHomeRelay(
      root,
      { accountId: profile.account.accountId, deviceId: 1 },
      pin,
    );
    expect(await home.health()).toMatchObject({ reachable: true, queued: 0 });
    const file = JSON.parse(readFileSync(join(root, 'relay.json'), 'utf8')) as unknown;
    expect(file).toEqual({ protocol: 2, relayId: pin.id });
    expect(pin.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('stores sealed envelopes as {body, serverTime} under names that never contain the sender', async () => {
    const { alice, bob, token, asAlice, mailbox, root } = await setUp();
    expect(await asAlice.sendBatch([to(bob, token), to(bob, token)])).toEqual([
      undefined,
      undefined,
    ]);
    const names = readdirSync(mailbox);
    expect(names).toHaveLength(2);
    for (const name of names) {
      const file = JSON.parse(readFileSync(join(mailbox, name), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(file).sort()).toEqual(['body', 'serverTime']);
    }
    const everything = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => `${e.parentPath}/${e.name}\n${readFileSync(join(e.parentPath, e.name), 'utf8')}`)
      .join('\n');
    expect(everything).not.toContain(alice.account.accountId);
  });

  it('delivers, hands an envelope out once per client, and deletes it on ack', async () => {
    const { bob, bobHome, token, asAlice, root } = await setUp();
    const sent = to(bob, token);
    await asAlice.sendBatch([sent]);
    const [received] = await bobHome.receive(10, 0);
    expect(Buffer.from(received!.body).equals(sent.body)).toBe(true);
    expect(await bobHome.receive(10, 0)).toEqual([]);
    const again = await homeOf(bob, root); // a restart: unacked mail comes back
    expect((await again.receive(10, 0)).map((e) => e.id)).toEqual([received!.id]);
    await bobHome.ack([received!.id]);
    expect(await (await homeOf(bob, root)).receive(10, 0)).toEqual([]);
  });

  it('recognises a resubmitted envelope (same recipient, device and client message id)', async () => {
    const { bob, bobHome, token, asAlice } = await setUp();
    const sent = to(bob, token);
    await asAlice.sendBatch([sent]);
    await asAlice.sendBatch([sent]);
    expect(await bobHome.receive(10, 0)).toHaveLength(1);
  });

  it('refuses a wrong token, and any send to an account that registered none, storing nothing', async () => {
    const { alice, bob, asAlice, mailbox } = await setUp();
    expect(await asAlice.sendBatch([to(bob, randomBytes(16)), to(alice, randomBytes(16))])).toEqual(
      ['RELAY_ERR_BAD_TOKEN', 'RELAY_ERR_BAD_TOKEN'],
    );
    await expect(
      asAlice.fetchBundle({
        accountId: bob.account.accountId,
        deviceId: 1,
        token: randomBytes(16),
      }),
    ).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ERR_BAD_TOKEN',
    });
    expect(existsSync(mailbox)).toBe(false);
  });

  it('hands out each one-time key once and skips damaged key files', async () => {
    const { bob, token, asAlice, root } = await setUp();
    const request = { accountId: bob.account.accountId, deviceId: 1, token };
    const keysDir = join(root, 'keys', `${bob.account.accountId}.1`, 'one-time');
    const [firstName] = readdirSync(keysDir)
      .filter((n) => n.startsWith('ec-'))
      .sort();
    writeFileSync(join(keysDir, firstName!), '{"id": "not a key"');
    const first = await asAlice.fetchBundle(request);
    const second = await asAlice.fetchBundle(request);
    expect(first.preKey?.id).toBeDefined();
    expect(first.preKey?.id).not.toBe(second.preKey?.id);
    expect(first.kyberPreKey.id).not.toBe(second.kyberPreKey.id);
    expect(`ec-${String(first.preKey?.id).padStart(8, '0')}.json`).not.toBe(firstName);
  });

  it('a publish re-sent after a fetch never brings the taken key back; its mark is forgotten after 30 days', async () => {
    const { bob, bobHome, token, asAlice, root } = await setUp();
    const request = { accountId: bob.account.accountId, deviceId: 1, token };
    const dir = join(root, 'keys', `${bob.account.accountId}.1`);
    const batch = publishedKeys(bob.db, bob.account);
    const fetched = await asAlice.fetchBundle(request);
    const ecName = `ec-${String(fetched.preKey?.id).padStart(8, '0')}.json`;
    const kyberName = `kyber-${String(fetched.kyberPreKey.id).padStart(8, '0')}.json`;
    // The mark names the key and holds nothing of it.
    expect(readFileSync(join(dir, 'taken', ecName), 'utf8')).toBe('');
    const before = readdirSync(join(dir, 'one-time')).sort();

    // The same batch again (its first write's answer lost, say): the taken ids stay taken.
    await bobHome.publishKeys(batch);
    expect(readdirSync(join(dir, 'one-time')).sort()).toEqual(before);
    const ids = new Set<number | undefined>([fetched.preKey?.id]);
    for (let n = 0; n < before.filter((name) => name.startsWith('ec-')).length; n++) {
      const next = await asAlice.fetchBundle(request);
      expect(ids.has(next.preKey?.id)).toBe(false);
      ids.add(next.preKey?.id);
    }

    // A mark older than 30 days is forgotten at the next publish, and the id may be stored again.
    const old = new Date(Date.now() - 31 * 24 * 60 * 60 * 1000);
    utimesSync(join(dir, 'taken', ecName), old, old);
    await bobHome.publishKeys(batch);
    const stored = readdirSync(join(dir, 'one-time'));
    expect(stored).toContain(ecName);
    expect(stored).not.toContain(kyberName);
    expect(existsSync(join(dir, 'taken', ecName))).toBe(false);
  });

  it('refuses a folder whose relay.json names another relay id than the pinned one', async () => {
    const { bob, token, root } = await setUp();
    const elsewhere = new FolderRelay(root, {
      expected: () => randomBytes(16).toString('base64url'),
    });
    await expect(elsewhere.sendBatch([to(bob, token)])).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ID_MISMATCH',
    });
  });

  it('never replaces a damaged relay.json (that would change the relay id)', async () => {
    const { root, bob } = await setUp();
    writeFileSync(join(root, 'relay.json'), '{"protocol": 2, "relayId": "../../x"}');
    const home = new FolderHomeRelay(
      root,
      { accountId: bob.account.accountId, deviceId: 1 },
      pinned(),
    );
    await expect(home.receive(10, 0)).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ERR_MALFORMED',
    });
    expect(readFileSync(join(root, 'relay.json'), 'utf8')).toContain('../../x');
  });

  it('a contact’s folder that is missing is unreachable and is not created', async () => {
    const root = join(tempDir(), 'unmounted-share');
    const { profile: bob } = await newProfile('Bob');
    const relay = new FolderRelay(root, { expected: () => 'AAAAAAAAAAAAAAAAAAAAAA' });
    await expect(relay.sendBatch([to(bob, randomBytes(16))])).rejects.toMatchObject({
      code: 'RELAY_UNAVAILABLE',
    });
    expect(existsSync(root)).toBe(false);
  });

  it('ignores files it did not write, hands a damaged envelope on empty (to be rejected and acked), and deletes only its own names', async () => {
    const { bob, bobHome, token, asAlice, mailbox } = await setUp();
    await asAlice.sendBatch([to(bob, token)]);
    const [real] = readdirSync(mailbox);
    writeFileSync(join(mailbox, `${real!.slice(0, -4)} (conflicted copy).env`), 'garbage');
    writeFileSync(join(mailbox, 'notes.env'), 'garbage');
    const damaged = `${'9'.repeat(15)}-000001-${'A'.repeat(22)}.env`;
    writeFileSync(join(mailbox, damaged), '{"body": "AAAA", "serverTime": 1, "from": "someone"}');
    mkdirSync(join(mailbox, 'sub'), { recursive: true });

    const received = await bobHome.receive(10, 0);
    expect(received.map((e) => `${e.id}.env`)).toEqual([real, damaged]);
    expect(received[1]!.body).toHaveLength(0);
    await expect(
      bobHome.ack(['notes', '../../keys/x', ...received.map((e) => e.id)]),
    ).resolves.toBeUndefined();
    expect(readdirSync(mailbox).sort()).toEqual([
      `${real!.slice(0, -4)} (conflicted copy).env`,
      'notes.env',
      'sub',
    ]);
  });

  it('refuses keys published for another account, and more one-time keys than it keeps', async () => {
    const { alice, bob, root } = await setUp();
    const asBob = await homeOf(bob, root);
    await expect(asBob.publishKeys(publishedKeys(alice.db, alice.account))).rejects.toMatchObject({
      detail: 'RELAY_ERR_FORBIDDEN',
    });
    const keys = publishedKeys(bob.db, bob.account);
    const many = {
      ...keys,
      oneTimePreKeys: Array.from({ length: 150 }, (_, i) => ({
        id: 1000 + i,
        publicKey: keys.signedPreKey.publicKey,
      })),
    };
    await expect(asBob.publishKeys(many)).rejects.toMatchObject({
      detail: 'RELAY_ERR_TOO_MANY_KEYS',
    });
  });

  it('refuses account ids that are not UUIDs before they become paths', async () => {
    const { asAlice, token } = await setUp();
    await expect(
      asAlice.sendBatch([
        {
          clientMessageId: randomUUID(),
          recipient: '../../etc' as AccountId,
          recipientDevice: 1,
          token,
          body: randomBytes(10),
        },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
