import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addContactFromInvite,
  ownDeliveryToken,
  type Profile,
  queueText,
} from '../../../electron/core/index.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { setHomeRelay } from '../../../electron/core/sync/home-relay-setting.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { formatInvite } from '../../../shared/protocol/invite.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { startRecordingRelay } from './support/recording-relay.ts';
import { startStallingProxy } from './support/stalling-proxy.ts';

// The client against a real `sotto-relay` v2 process over loopback sockets,
// for what the contract suite cannot show on its own: a dead link noticed by
// the heartbeat, a contact's relay that never sees a login, and a relay that
// stores no sender.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function relayProcess(): Promise<{ relay: RelayProcess; data: string }> {
  const data = tempDir('sotto-relay-');
  const relay = await startRelayProcess(data);
  cleanups.push(() => relay.stop());
  return { relay, data };
}

async function person(name: string, address: string, pool?: (profile: Profile) => RelayPool) {
  const { profile } = await newProfile(name);
  setHomeRelay(profile, address);
  const engine = new SyncEngine(profile, pool?.(profile));
  cleanups.push(() => engine.close());
  await engine.registerToken();
  await engine.publishKeys();
  return { profile, engine };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

describe('client against a real relay process', () => {
  it('a connection that went silent (stalling proxy) is cut by the ping timeout; mail then arrives on a new one', async () => {
    const { relay } = await relayProcess();
    const proxy = await startStallingProxy(relay.port);
    cleanups.push(() => proxy.stop());
    // Alice reaches the relay through the proxy; Bob directly.
    const alice = await person(
      'Alice',
      proxy.address,
      (profile) => new RelayPool(profile, { pingIntervalMs: 300, pongTimeoutMs: 500 }),
    );
    const bob = await person('Bob', relay.url);
    addContactFromInvite(alice.profile, profileInvite(bob.profile));
    addContactFromInvite(bob.profile, profileInvite(alice.profile));

    const waiting = alice.engine.home.receive(10, 60_000);
    proxy.stall();
    const started = Date.now();
    await expect(waiting).rejects.toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(10_000);

    proxy.resume();
    queueText(bob.profile, alice.profile.account.accountId, 'after the outage');
    expect((await bob.engine.sendOutbox()).sent).toBe(1);
    expect(await alice.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ stored: 1 });
    expect(proxy.connections()).toBeGreaterThanOrEqual(2);
  });

  it('a contact on another relay gets anonymous hellos and a token-authorized fetch, never a login; the home relay gets the login', async () => {
    const { relay } = await relayProcess();
    const theirs = await startRecordingRelay();
    cleanups.push(() => theirs.stop());
    const alice = await person('Alice', relay.url);
    const { profile: bob } = await newProfile('Bob');
    // Bob's invite names the recording relay (a loopback ws:// address is allowed in invites).
    addContactFromInvite(
      alice.profile,
      formatInvite({
        relay: theirs.address,
        relayId: theirs.relayId,
        accountId: bob.account.accountId,
        identityKey: toBase64(bob.account.identity.publicKey.serialize()),
        token: toBase64(ownDeliveryToken(bob)),
        name: 'Bob',
      }),
    );
    queueText(alice.profile, bob.account.accountId, 'hello');
    await alice.engine.sendOutbox(); // the recording relay refuses the bundle: the message stays queued
    const frames = theirs.frames();
    expect(frames.map((f) => (f.type === 'hello' ? `hello:${f.mode}` : f.type))).toEqual([
      'hello:anonymous',
      'keys.fetch',
    ]);
    expect(JSON.stringify(frames)).not.toContain(alice.profile.account.accountId);
    expect(relay.output()).not.toContain(alice.profile.account.accountId);
  });

  it('after a conversation between two relays, neither relay’s files (database, WAL, log) name the other side', async () => {
    const a = await relayProcess();
    const b = await relayProcess();
    const alice = await person('Alice', a.relay.url);
    const bob = await person('Bob', b.relay.url);
    addContactFromInvite(alice.profile, profileInvite(bob.profile));
    addContactFromInvite(bob.profile, profileInvite(alice.profile));
    for (let i = 0; i < 3; i++)
      queueText(alice.profile, bob.profile.account.accountId, `message ${i}`);
    expect((await alice.engine.sendOutbox()).sent).toBe(3);
    expect(await bob.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ stored: 3 });
    queueText(bob.profile, alice.profile.account.accountId, 'reply');
    await bob.engine.sendOutbox();
    expect(await alice.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ stored: 1 });
    for (const [relay, stranger] of [
      [b, alice.profile],
      [a, bob.profile],
    ] as const) {
      const id = stranger.account.accountId;
      const raw = Buffer.from(id.replaceAll('-', ''), 'hex');
      const files = filesUnder(relay.data);
      expect(files.some((f) => f.endsWith('relay.db'))).toBe(true);
      for (const file of files) {
        const bytes = readFileSync(file);
        expect(bytes.includes(id) || bytes.includes(raw), file).toBe(false);
      }
      expect(relay.relay.output()).not.toContain(id);
    }
  });

  it('listen goes offline when the relay stops and back online when it restarts (same data, same relay id), then receives', async () => {
    const data = tempDir('sotto-relay-');
    let relay = await startRelayProcess(data);
    cleanups.push(() => relay.stop());
    const alice = await person('Alice', relay.url);
    const bob = await person('Bob', relay.url);
    addContactFromInvite(alice.profile, profileInvite(bob.profile));
    addContactFromInvite(bob.profile, profileInvite(alice.profile));
    const events: string[] = [];
    let stored = 0;
    const stop = new AbortController();
    const listening = alice.engine.listen(stop.signal, (event) => {
      if (event.type === 'connection') events.push(event.state);
      if (event.type === 'received')
        stored += event.outcomes.filter((o) => o.outcome === 'stored').length;
    });
    const until = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + 60_000;
      while (!done()) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${events.join(',')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(() => events.includes('online'), 'online');
    const port = relay.port;
    await relay.stop();
    await until(() => events.at(-1) === 'offline', 'offline');
    relay = await startRelayProcess(data, { port });
    await until(() => events.at(-1) === 'online', 'online again');
    queueText(bob.profile, alice.profile.account.accountId, 'welcome back');
    expect((await bob.engine.sendOutbox()).sent).toBe(1);
    await until(() => stored === 1, 'the message');
    stop.abort();
    await listening;
    expect(events).toEqual(['online', 'offline', 'online']);
  });
});
