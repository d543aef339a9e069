import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { markKeysPublished, publishedKeys } from '../../../electron/core/crypto/prekeys.ts';
import { addContact, processEnvelopes, queueText, encryptQueued, readyEnvelopes, startSession, type Profile } from '../../../electron/core/index.ts';
import { toSubmission } from '../../../electron/core/sync/engine.ts';
import type { Relay } from '../../../electron/core/sync/relay.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import { cardOf, newProfile, tempDir } from '../../support/profiles.ts';
import { startRelayProcess } from '../../support/relay-process.ts';

// One contract, two real relays: a `sotto-relay` process over a loopback
// WebSocket, and a plain directory.

type Start = () => Promise<{ address: string; stop: () => Promise<void> }>;

const implementations: { name: string; start: Start }[] = [
  {
    name: 'folder relay',
    start: () => Promise.resolve({ address: join(tempDir(), 'relay'), stop: () => Promise.resolve() }),
  },
  {
    name: 'WebSocket relay',
    start: async () => {
      const relay = await startRelayProcess(tempDir());
      return {
        address: relay.url,
        stop: async () => {
          await relay.stop();
        },
      };
    },
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function client(name: string, address: string): Promise<{ profile: Profile; relay: Relay }> {
  const { profile } = await newProfile(name);
  const pool = new RelayPool(profile);
  cleanups.push(async () => {
    await pool.close();
    await profile.close();
  });
  return { profile, relay: pool.get(address) };
}

async function publish(profile: Profile, relay: Relay): Promise<void> {
  const keys = publishedKeys(profile.db, profile.account, false);
  await relay.publishKeys(keys);
  markKeysPublished(profile.db, keys);
}

/** Alice has a session with Bob (via Bob's published bundle) and one encrypted message queued. */
async function pair(address: string, text = 'hello') {
  const alice = await client('Alice', address);
  const bob = await client('Bob', address);
  await publish(bob.profile, bob.relay);
  addContact(alice.profile, cardOf(bob.profile));
  addContact(bob.profile, cardOf(alice.profile));
  await startSession(alice.profile, await alice.relay.fetchBundle(bob.profile.account.accountId));
  queueText(alice.profile, bob.profile.account.accountId, text);
  await encryptQueued(alice.profile);
  const [envelope] = readyEnvelopes(alice.profile);
  return { alice, bob, envelope: envelope! };
}

describe.each(implementations)('relay contract: $name', ({ start }) => {
  async function relayAddress(): Promise<string> {
    const relay = await start();
    cleanups.push(relay.stop);
    return relay.address;
  }

  it('is reachable and reports an empty mailbox', async () => {
    const { relay } = await client('Alice', await relayAddress());
    expect(await relay.health()).toMatchObject({ reachable: true });
    expect(await relay.receive(10, 0)).toEqual([]);
  });

  it('hands out each one-time key once: two fetches get different prekeys', async () => {
    const address = await relayAddress();
    const bob = await client('Bob', address);
    const alice = await client('Alice', address);
    await publish(bob.profile, bob.relay);
    const first = await alice.relay.fetchBundle(bob.profile.account.accountId);
    const second = await alice.relay.fetchBundle(bob.profile.account.accountId);
    expect(first.identityKey).toBe(second.identityKey);
    expect(first.preKey?.id).toBeDefined();
    expect(first.preKey?.id).not.toBe(second.preKey?.id);
    expect(first.kyberPreKey.id).not.toBe(second.kyberPreKey.id);
  });

  it('refuses a bundle for an account that published nothing', async () => {
    const address = await relayAddress();
    const alice = await client('Alice', address);
    const nobody = await client('Nobody', address);
    await expect(alice.relay.fetchBundle(nobody.profile.account.accountId)).rejects.toMatchObject({ code: 'RELAY_REFUSED' });
  });

  it('delivers a sent envelope, which decrypts; acked, it is gone', async () => {
    const address = await relayAddress();
    const { alice, bob, envelope } = await pair(address, 'through the relay');
    await alice.relay.send(toSubmission(envelope));
    const received = await bob.relay.receive(10, 2_000);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ sender: alice.profile.account.accountId, senderDevice: 1, type: 3 });
    const outcomes = await processEnvelopes(bob.profile, received);
    expect(outcomes.map((o) => o.outcome)).toEqual(['stored']);
    await bob.relay.ack(received.map((e) => e.id));
    const reconnected = new RelayPool(bob.profile); // a fresh connection, as after a restart
    cleanups.push(() => reconnected.close());
    expect(await reconnected.get(address).receive(10, 300)).toEqual([]);
  });

  it('a resubmitted envelope (same client message id) is delivered once', async () => {
    const address = await relayAddress();
    const { alice, bob, envelope } = await pair(address);
    await alice.relay.send(toSubmission(envelope));
    await alice.relay.send(toSubmission(envelope));
    const received = await bob.relay.receive(10, 2_000);
    expect(received).toHaveLength(1);
    expect(await bob.relay.receive(10, 300)).toEqual([]);
  });

  it('unacked envelopes are delivered again to the next connection', async () => {
    const address = await relayAddress();
    const { alice, bob, envelope } = await pair(address);
    await alice.relay.send(toSubmission(envelope));
    const first = await bob.relay.receive(10, 2_000);
    expect(first).toHaveLength(1);
    await bob.relay.close();
    const reconnected = new RelayPool(bob.profile);
    cleanups.push(() => reconnected.close());
    const second = await reconnected.get(address).receive(10, 2_000);
    expect(second.map((e) => e.id)).toEqual(first.map((e) => e.id));
  });
});
