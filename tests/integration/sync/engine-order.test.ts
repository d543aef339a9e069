import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blockContact, queueText } from '../../../electron/core/index.ts';
import type { HomeRelay, Relay } from '../../../electron/core/sync/relay.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// The order of an engine's pass over real folder relays, seen through a pool
// that writes down every relay call: a rotated token is registered at the home
// relay before anything is sent (contacts must not learn a token the relay
// does not know yet).

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

describe('sync engine order', () => {
  it('registers a rotated token at the home relay before sending anything', async () => {
    const address = join(tempDir(), 'relay');
    let pool: RecordingPool | undefined;
    const bob = await enginePerson(
      'Bob',
      address,
      (profile) => (pool = new RecordingPool(profile)),
    );
    const alice = await enginePerson('Alice', address);
    const carol = await enginePerson('Carol', address);
    befriend(alice, bob);
    befriend(carol, bob);
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
