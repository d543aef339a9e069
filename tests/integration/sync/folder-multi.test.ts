import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  groupDecrypt,
  processSenderKeyDistributionMessage,
  sealedSenderDecryptToUsmc,
} from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { ProtocolTransaction } from '../../../electron/core/crypto/protocol-transaction.ts';
import { SenderKeyUnit } from '../../../electron/core/groups/sender-key-store.ts';
import { localAddress } from '../../../electron/core/messaging/addresses.ts';
import type { Profile } from '../../../electron/core/profile/profile.ts';
import { FolderHomeRelay } from '../../../electron/core/sync/folder-home-relay.ts';
import { FolderRelay } from '../../../electron/core/sync/folder-relay.ts';
import type { MultiSubmission } from '../../../electron/core/sync/relay.ts';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import { multiSealed } from '../../support/group-sealing.ts';
import { introduce, newProfile, tempDir } from '../../support/profiles.ts';

// The folder relay's half of sealed sender v2: one multi-recipient body in,
// one envelope per listed device out, each opening only for its recipient.
// Hostile cases: a wrong token, a body naming someone not listed (or
// listing someone it does not name), garbage, a resubmit.

async function setUp(count = 2) {
  const root = join(tempDir(), 'relay');
  const { profile: alice } = await newProfile('Alice');
  const members: { profile: Profile; home: FolderHomeRelay; token: Uint8Array }[] = [];
  let relayId = '';
  for (let i = 0; i < count; i++) {
    const { profile } = await newProfile(`Member${i}`);
    const home = new FolderHomeRelay(
      root,
      { accountId: profile.account.accountId, deviceId: 1 },
      { expected: () => undefined, remember: (id) => void (relayId = id) },
    );
    const token = randomBytes(16);
    await home.registerToken(token);
    await introduce(alice, profile);
    members.push({ profile, home, token });
  }
  const asAlice = new FolderRelay(root, { expected: () => relayId });
  const mailbox = (p: Profile) => join(root, 'mail', `${p.account.accountId}.1`);
  return { root, alice, members, asAlice, mailbox };
}

function submission(
  body: Uint8Array,
  members: readonly { profile: Profile; token: Uint8Array }[],
): MultiSubmission {
  return {
    clientMessageId: randomUUID(),
    body,
    recipients: members.map((m) => ({ accountId: m.profile.account.accountId, token: m.token })),
  };
}

/** Opens an envelope as its recipient would: unseal to the USMC, then groupDecrypt with the SKDM processed. */
async function open(
  recipient: Profile,
  sender: Profile,
  body: Uint8Array,
  skdm: Awaited<ReturnType<typeof multiSealed>>['skdm'],
) {
  const tx = new ProtocolTransaction(recipient.state);
  const usmc = await sealedSenderDecryptToUsmc(Uint8Array.from(body), tx.identityStore);
  const unit = new SenderKeyUnit(recipient.db);
  await processSenderKeyDistributionMessage(localAddress(sender), skdm, unit.store);
  return {
    usmc,
    plaintext: await groupDecrypt(localAddress(sender), unit.store, usmc.contents()),
  };
}

describe('folder relay: multi-recipient sends', () => {
  it('writes one envelope per recipient that opens to the same group message, for that recipient only', async () => {
    const { alice, members, asAlice } = await setUp(3);
    const plaintext = randomBytes(50);
    const sealed = await multiSealed(
      alice,
      members.map((m) => m.profile),
      plaintext,
    );
    const results = await asAlice.sendMulti(submission(sealed.body, members));
    expect([...results.values()]).toEqual([undefined, undefined, undefined]);
    const bodies: Uint8Array[] = [];
    for (const m of members) {
      const got = await m.home.receive(10, 0);
      expect(got).toHaveLength(1);
      const opened = await open(m.profile, alice, got[0]!.body, sealed.skdm);
      expect(Buffer.from(opened.plaintext)).toEqual(plaintext);
      expect(Buffer.from(opened.usmc.groupId()!)).toEqual(sealed.groupId);
      expect(opened.usmc.senderCertificate().senderUuid()).toBe(alice.account.accountId);
      bodies.push(got[0]!.body);
    }
    // Member 0's copy does not open for member 1 (per-recipient key material).
    const tx = new ProtocolTransaction(members[1]!.profile.state);
    await expect(
      sealedSenderDecryptToUsmc(Uint8Array.from(bodies[0]!), tx.identityStore),
    ).rejects.toThrow();
  });

  it('is idempotent per mailbox: a resubmit after a crash writes nothing twice', async () => {
    const { alice, members, asAlice, mailbox } = await setUp(2);
    const sealed = await multiSealed(
      alice,
      members.map((m) => m.profile),
    );
    const sub = submission(sealed.body, members);
    await asAlice.sendMulti(sub);
    await asAlice.sendMulti(sub);
    for (const m of members) expect(readdirSync(mailbox(m.profile))).toHaveLength(1);
  });

  it('refuses only the recipient with a wrong token; the others are stored', async () => {
    const { alice, members, asAlice, mailbox } = await setUp(2);
    const sealed = await multiSealed(
      alice,
      members.map((m) => m.profile),
    );
    const sub = submission(sealed.body, [
      members[0]!,
      { profile: members[1]!.profile, token: randomBytes(16) },
    ]);
    const results = await asAlice.sendMulti(sub);
    expect(results.get(members[0]!.profile.account.accountId)).toBeUndefined();
    expect(results.get(members[1]!.profile.account.accountId)).toBe('RELAY_ERR_BAD_TOKEN');
    expect(readdirSync(mailbox(members[0]!.profile))).toHaveLength(1);
    expect(() => readdirSync(mailbox(members[1]!.profile))).toThrow();
  });

  it('refuses the whole send (nothing stored) when the body names a recipient that is not listed, or the reverse', async () => {
    const { alice, members, asAlice, root } = await setUp(3);
    const sealed = await multiSealed(
      alice,
      members.slice(0, 2).map((m) => m.profile),
    );
    // Named in the body, not listed with a token: would be a free write into a stranger's mailbox.
    await expect(
      asAlice.sendMulti(submission(sealed.body, members.slice(0, 1))),
    ).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ERR_MALFORMED',
    });
    // Listed but not in the body.
    await expect(asAlice.sendMulti(submission(sealed.body, members))).rejects.toMatchObject({
      detail: 'RELAY_ERR_MALFORMED',
    });
    expect(() => readdirSync(join(root, 'mail'))).toThrow();
  });

  it('refuses garbage, an empty recipient list, duplicates and a non-uuid client id as MALFORMED', async () => {
    const { alice, members, asAlice, root } = await setUp(2);
    const sealed = await multiSealed(
      alice,
      members.map((m) => m.profile),
    );
    const cases: MultiSubmission[] = [
      submission(randomBytes(500), members),
      // Cut inside the recipient table (a cut in the shared ciphertext is the recipients' problem: a relay cannot tell).
      submission(sealed.body.subarray(0, 12), members),
      { ...submission(sealed.body, members), recipients: [] },
      submission(sealed.body, [members[0]!, members[0]!]),
      { ...submission(sealed.body, members), clientMessageId: '../../etc' },
      submission(new Uint8Array(300 * 1024), members),
    ];
    for (const c of cases)
      await expect(asAlice.sendMulti(c)).rejects.toMatchObject({ detail: 'RELAY_ERR_MALFORMED' });
    expect(() => readdirSync(join(root, 'mail'))).toThrow();
  });

  it('leaves no partial file: every envelope file parses whole and names no sender', async () => {
    const { alice, members, asAlice, mailbox } = await setUp(2);
    const sealed = await multiSealed(
      alice,
      members.map((m) => m.profile),
    );
    await asAlice.sendMulti(submission(sealed.body, members));
    for (const m of members) {
      for (const name of readdirSync(mailbox(m.profile))) {
        expect(name).not.toContain(alice.account.accountId);
        const file = JSON.parse(readFileSync(join(mailbox(m.profile), name), 'utf8')) as {
          body: string;
        };
        expect(fromBase64(file.body).length).toBeGreaterThan(100);
        expect(file.body).not.toContain(alice.account.accountId);
      }
    }
  });
});
