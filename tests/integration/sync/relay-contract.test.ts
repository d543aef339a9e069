import { randomBytes } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  blockContact,
  getContact,
  ownDeliveryToken,
  type Profile,
  queueText,
} from '../../../electron/core/index.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { homeRelayId, pinHomeRelayId } from '../../../electron/core/sync/home-relay-setting.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { MultiSender, type MultiTarget, openCopy } from '../../support/multi-sealing.ts';
import { tempDir } from '../../support/profiles.ts';
import { relayImplementations } from './support/implementations.ts';

// One contract, every real relay: what a profile's engine does through its
// home relay (login, token, keys, mailbox) and through anyone's relay
// (anonymous bundles and sealed sends), end to end between two profiles.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Person {
  readonly profile: Profile;
  readonly engine: SyncEngine;
}

const person = enginePerson;

async function friends(address: string): Promise<{ alice: Person; bob: Person }> {
  const alice = await person('Alice', address);
  const bob = await person('Bob', address);
  befriend(alice, bob);
  return { alice, bob };
}

const receive = (p: Person) => p.engine.receive({ firstWaitMs: 3_000, idleMs: 300 });

/** A profile as a multi-recipient target (its own identity, device and registration id). */
const targetOf = (p: Person): MultiTarget => ({ ...p.profile.account });

/**
 * A sealed-sender v2 message to `people` from a sender with its own sessions
 * (the relay cannot tell: it checks tokens and published devices only).
 */
async function groupMessage(people: readonly Person[]) {
  const sender = new MultiSender(IdentityKeyPair.generate(), crypto.randomUUID());
  for (const p of people) await sender.meet(targetOf(p));
  const sealed = await sender.seal(people.map(targetOf), new Uint8Array(randomBytes(150)));
  return { body: sealed.body, contents: Buffer.from(sealed.content.contents()) };
}

describe.each(relayImplementations())('relay contract: $name', ({ start }) => {
  async function relayAddress(): Promise<string> {
    const relay = await start();
    cleanups.push(relay.stop);
    return relay.address;
  }

  it('the first connection pins the relay id, which the invite carries', async () => {
    const address = await relayAddress();
    const { profile } = await person('Alice', address);
    const relayId = homeRelayId(profile);
    expect(relayId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const other = await person('Bob', address);
    expect(homeRelayId(other.profile)).toBe(relayId);
    expect(profileInvite(profile)).toMatch(/^sotto:\/\/invite\/2#/);
  });

  it('delivers a message end to end, sealed and sent anonymously with the token; acked, it is gone', async () => {
    const { alice, bob } = await friends(await relayAddress());
    queueText(alice.profile, bob.profile.account.accountId, 'through the relay');
    expect(await alice.engine.sendOutbox()).toMatchObject({ sent: 1, failed: [] });
    expect(await receive(bob)).toMatchObject({ stored: 1, rejected: 0, retry: 0 });
    const restarted = new RelayPool(bob.profile); // a fresh connection, as after a restart
    cleanups.push(() => restarted.close());
    expect(await restarted.home.receive(10, 500)).toEqual([]);
  });

  it('unacked envelopes come again on the next connection', async () => {
    const { alice, bob } = await friends(await relayAddress());
    queueText(alice.profile, bob.profile.account.accountId, 'again');
    await alice.engine.sendOutbox();
    const first = await bob.engine.home.receive(10, 3_000);
    expect(first).toHaveLength(1);
    const restarted = new RelayPool(bob.profile);
    cleanups.push(() => restarted.close());
    expect((await restarted.home.receive(10, 3_000)).map((e) => e.id)).toEqual(
      first.map((e) => e.id),
    );
  });

  it('fetches a bundle anonymously with the token; each fetch takes other one-time keys', async () => {
    const { alice, bob } = await friends(await relayAddress());
    const relay = alice.engine.pool.get(
      getContact(alice.profile.db, bob.profile.account.accountId).relay!,
      homeRelayId(bob.profile)!,
    );
    const request = {
      accountId: bob.profile.account.accountId,
      deviceId: 1,
      token: ownDeliveryToken(bob.profile),
    };
    const first = await relay.fetchBundle(request);
    const second = await relay.fetchBundle(request);
    expect(first.identityKey).toBe(second.identityKey);
    expect(first.preKey?.id).not.toBe(second.preKey?.id);
    expect(first.kyberPreKey.id).not.toBe(second.kyberPreKey.id);
  });

  it('refuses a wrong token for bundles and sends, storing nothing', async () => {
    const { alice, bob } = await friends(await relayAddress());
    const relay = alice.engine.pool.get(
      getContact(alice.profile.db, bob.profile.account.accountId).relay!,
      homeRelayId(bob.profile)!,
    );
    const wrong = randomBytes(16);
    await expect(
      relay.fetchBundle({ accountId: bob.profile.account.accountId, deviceId: 1, token: wrong }),
    ).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ERR_BAD_TOKEN',
    });
    const refused = await relay.sendBatch([
      {
        clientMessageId: crypto.randomUUID(),
        recipient: bob.profile.account.accountId,
        recipientDevice: 1,
        token: wrong,
        body: randomBytes(200),
      },
    ]);
    expect(refused).toEqual(['RELAY_ERR_BAD_TOKEN']);
    expect(await bob.engine.home.receive(10, 500)).toEqual([]);
  });

  it('sendMulti stores one copy per recipient, each opens it; a wrong token refuses that recipient only', async () => {
    const address = await relayAddress();
    const { alice, bob } = await friends(address);
    const carol = await person('Carol', address);
    const relay = alice.engine.pool.get(
      getContact(alice.profile.db, bob.profile.account.accountId).relay!,
      homeRelayId(bob.profile)!,
    );
    const { body, contents } = await groupMessage([bob, carol]);
    const results = await relay.sendMulti({
      clientMessageId: crypto.randomUUID(),
      body,
      recipients: [
        { accountId: bob.profile.account.accountId, token: ownDeliveryToken(bob.profile) },
        { accountId: carol.profile.account.accountId, token: randomBytes(16) },
      ],
    });
    expect([...results.entries()]).toEqual([
      [bob.profile.account.accountId, undefined],
      [carol.profile.account.accountId, 'RELAY_ERR_BAD_TOKEN'],
    ]);
    const [copy, ...more] = await bob.engine.home.receive(10, 3_000);
    expect(more).toEqual([]);
    const usmc = await openCopy(bob.profile.account.identity, Uint8Array.from(copy!.body));
    expect(Buffer.from(usmc.contents()).equals(contents)).toBe(true);
    expect(await carol.engine.home.receive(10, 500)).toEqual([]);
  });

  it('sendMulti resubmitted with the same clientMessageId stores nothing new', async () => {
    const address = await relayAddress();
    const { alice, bob } = await friends(address);
    const carol = await person('Carol', address);
    const relay = alice.engine.pool.get(
      getContact(alice.profile.db, bob.profile.account.accountId).relay!,
      homeRelayId(bob.profile)!,
    );
    const { body } = await groupMessage([bob, carol]);
    const submission = {
      clientMessageId: crypto.randomUUID(),
      body,
      recipients: [bob, carol].map((p) => ({
        accountId: p.profile.account.accountId,
        token: ownDeliveryToken(p.profile),
      })),
    };
    const first = await relay.sendMulti(submission);
    const again = await relay.sendMulti(submission);
    expect([...again.values()]).toEqual([undefined, undefined]);
    expect(again).toEqual(first);
    for (const p of [bob, carol]) {
      const received = await p.engine.home.receive(10, 3_000);
      expect(received).toHaveLength(1);
      await p.engine.home.ack(received.map((e) => e.id));
      expect(await p.engine.home.receive(10, 500)).toEqual([]);
    }
  });

  it('a blocked contact is cut off: their engine’s sends are refused with BAD_TOKEN once the new token is registered', async () => {
    const { alice, bob } = await friends(await relayAddress());
    blockContact(bob.profile, alice.profile.account.accountId);
    await bob.engine.sendOutbox(); // registers the rotated token first
    queueText(alice.profile, bob.profile.account.accountId, 'can you hear me');
    const report = await alice.engine.sendOutbox();
    expect(report.sent).toBe(0);
    expect(await bob.engine.home.receive(10, 500)).toEqual([]);
  });

  it('refuses to log in to its own relay when the relay id is not the pinned one', async () => {
    const address = await relayAddress();
    const alice = await person('Alice', address);
    pinHomeRelayId(alice.profile, randomBytes(16).toString('base64url'));
    const engine = new SyncEngine(alice.profile);
    cleanups.push(() => engine.close());
    await expect(engine.home.receive(10, 0)).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ID_MISMATCH',
    });
  });

  it('refuses a contact’s relay whose id is not the one their invite pinned', async () => {
    const { alice, bob } = await friends(await relayAddress());
    const relay = alice.engine.pool.get(
      getContact(alice.profile.db, bob.profile.account.accountId).relay!,
      randomBytes(16).toString('base64url'),
    );
    await expect(
      relay.fetchBundle({
        accountId: bob.profile.account.accountId,
        deviceId: 1,
        token: ownDeliveryToken(bob.profile),
      }),
    ).rejects.toMatchObject({ code: 'RELAY_REFUSED', detail: 'RELAY_ID_MISMATCH' });
  });

  it('runs one outbox pass at a time: two callers at once cost one bundle fetch, and the joiner gets its own pass', async () => {
    const { alice, bob } = await friends(await relayAddress());
    const bobId = bob.profile.account.accountId;
    const before = (await bob.engine.home.keyStatus()).preKeyIds.length;
    queueText(alice.profile, bobId, 'first');
    const running = alice.engine.sendOutbox();
    queueText(alice.profile, bobId, 'second, queued while the first pass runs');
    const joined = alice.engine.sendOutbox();
    const [a, b] = await Promise.all([running, joined]);
    expect(a.sent + b.sent).toBe(2);
    expect((await bob.engine.home.keyStatus()).preKeyIds.length).toBe(before - 1);
    expect(await receive(bob)).toMatchObject({ stored: 2 });
  });
});

describe('relay contract: home relay settings', () => {
  it('a folder relay chosen by the user is created with its relay.json at the first connection', async () => {
    const address = join(tempDir(), 'new-relay');
    const alice = await person('Alice', address);
    expect(homeRelayId(alice.profile)).toBeDefined();
  });
});
