import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addContactFromInvite,
  blockContact,
  type Profile,
  queueText,
} from '../../../electron/core/index.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { setHomeRelay } from '../../../electron/core/sync/home-relay-setting.ts';
import type { HomeRelay, Relay } from '../../../electron/core/sync/relay.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';

// The order of an engine's pass over real folder relays, seen through a pool
// that writes down every relay call: a rotated token is registered at the home
// relay before anything is sent (contacts must not learn a token the relay
// does not know yet).

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

class RecordingPool extends RelayPool {
  readonly calls: string[] = [];

  override get home(): HomeRelay {
    return this.recorded(super.home);
  }

  override get(address: string, relayId: string | null): Relay {
    return this.recorded(super.get(address, relayId));
  }

  private recorded<T extends Relay>(relay: T): T {
    const calls = this.calls;
    return new Proxy(relay, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (typeof value !== 'function' || typeof name !== 'string') return value;
        return (...args: unknown[]) => {
          calls.push(name);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }
}

async function person(
  name: string,
  address: string,
  pool?: (profile: Profile) => RelayPool,
): Promise<{ profile: Profile; engine: SyncEngine }> {
  const { profile } = await newProfile(name);
  setHomeRelay(profile, address);
  const engine = new SyncEngine(profile, pool?.(profile));
  cleanups.push(() => engine.close());
  await engine.registerToken();
  await engine.publishKeys();
  return { profile, engine };
}

describe('sync engine order', () => {
  it('registers a rotated token at the home relay before sending anything', async () => {
    const address = join(tempDir(), 'relay');
    let pool: RecordingPool | undefined;
    const bob = await person('Bob', address, (profile) => (pool = new RecordingPool(profile)));
    const alice = await person('Alice', address);
    const carol = await person('Carol', address);
    for (const [a, b] of [
      [alice, bob],
      [carol, bob],
    ] as const) {
      addContactFromInvite(a.profile, profileInvite(b.profile));
      addContactFromInvite(b.profile, profileInvite(a.profile));
    }
    blockContact(bob.profile, carol.profile.account.accountId); // rotates Bob's token, queues it for Alice
    queueText(bob.profile, alice.profile.account.accountId, 'hello');
    pool!.calls.length = 0;
    const report = await bob.engine.sendOutbox();
    expect(report.sent).toBeGreaterThanOrEqual(2);
    const calls = pool!.calls.filter((c) =>
      ['registerToken', 'fetchBundle', 'sendBatch'].includes(c),
    );
    expect(calls[0]).toBe('registerToken');
    expect(calls.filter((c) => c === 'registerToken')).toHaveLength(1);
    expect(calls).toContain('sendBatch');
  });
});
