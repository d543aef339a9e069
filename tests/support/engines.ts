import { afterEach } from 'vitest';
import { addContactFromInvite, type Profile } from '../../electron/core/index.ts';
import { profileInvite } from '../../electron/core/profile/invite.ts';
import { SyncEngine } from '../../electron/core/sync/engine.ts';
import { setHomeRelay } from '../../electron/core/sync/home-relay-setting.ts';
import type { RelayPool } from '../../electron/core/sync/relay-pool.ts';
import { newProfile, tempDir } from './profiles.ts';
import { type RelayProcess, startRelayProcess } from './relay-process.ts';

// People with a running sync engine on a real relay (a folder or a relay
// process), as the sync and sealed-sender tests set them up. Imported after
// profiles.ts, this file's cleanup runs first: engines close before their
// profiles do.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs `cleanup` after the current test (newest first, before profiles close). */
export function afterTest(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

/** A profile with its engine on a relay. */
export interface EnginePerson {
  readonly profile: Profile;
  readonly engine: SyncEngine;
  readonly dir: string;
  readonly passphrase: string;
}

/**
 * A new profile whose home relay is `address`, with its engine (optionally
 * over `pool`): token registered and keys published. The engine closes after the test.
 */
export async function enginePerson(
  name: string,
  address: string,
  pool?: (profile: Profile) => RelayPool,
): Promise<EnginePerson> {
  const created = await newProfile(name);
  setHomeRelay(created.profile, address);
  const engine = new SyncEngine(created.profile, pool?.(created.profile));
  afterTest(() => engine.close());
  await engine.registerToken();
  await engine.publishKeys();
  return { ...created, engine };
}

/** Makes two people contacts of each other from their invites. */
export function befriend(a: { profile: Profile }, b: { profile: Profile }): void {
  addContactFromInvite(a.profile, profileInvite(b.profile));
  addContactFromInvite(b.profile, profileInvite(a.profile));
}

/** A `sotto-relay` process on a fresh data directory, stopped after the test. */
export async function relayProcessForTest(): Promise<{ relay: RelayProcess; data: string }> {
  const data = tempDir('sotto-relay-');
  const relay = await startRelayProcess(data);
  afterTest(() => relay.stop());
  return { relay, data };
}
