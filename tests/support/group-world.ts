import { join } from 'node:path';
import { afterEach } from 'vitest';
import { addContactFromInvite, type Profile } from '../../electron/core/index.ts';
import { createGroup } from '../../electron/core/groups/group-ops.ts';
import { loadGroup } from '../../electron/core/groups/group-store.ts';
import { profileInvite } from '../../electron/core/profile/invite.ts';
import { SyncEngine } from '../../electron/core/sync/engine.ts';
import { setHomeRelay } from '../../electron/core/sync/home-relay-setting.ts';
import { newProfile, tempDir } from './profiles.ts';

// Group tests over real relays: people with their own SyncEngine on a relay
// address (a folder path, or a ws:// URL of a running sotto-relay: the same
// helper drives both), made contacts pairwise, and a `settle` that runs
// send and receive passes until nothing moves (no sleeps: each pass either
// moves something or the loop ends).

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A profile with its engine, on `relay`. */
export interface Person {
  readonly name: string;
  readonly dir: string;
  readonly passphrase: string;
  readonly profile: Profile;
  readonly engine: SyncEngine;
}

/** A new person on `relay`, token registered and keys published. */
export async function person(name: string, relay: string): Promise<Person> {
  const { profile, dir, passphrase } = await newProfile(name);
  setHomeRelay(profile, relay);
  const engine = new SyncEngine(profile);
  cleanups.push(() => engine.close());
  await engine.registerToken();
  await engine.publishKeys();
  return { name, dir, passphrase, profile, engine };
}

/** Makes `a` and `b` contacts of each other (each added the other's invite). */
export function befriend(a: Person, b: Person): void {
  addContactFromInvite(a.profile, profileInvite(b.profile));
  addContactFromInvite(b.profile, profileInvite(a.profile));
}

/** Runs send and receive passes over everyone until a round moves nothing (at most `maxRounds`). */
export async function settle(people: readonly Person[], maxRounds = 12): Promise<void> {
  for (let round = 0; round < maxRounds; round++) {
    let moved = 0;
    for (const p of people) moved += (await p.engine.sendOutbox()).sent;
    for (const p of people) {
      const r = await p.engine.receive({ firstWaitMs: 0, idleMs: 0 });
      moved += r.stored + r.control + r.receipts + r.duplicates + r.rejected;
    }
    if (moved === 0) return;
  }
  throw new Error('the group did not settle');
}

/** Alice and Bob on one folder relay, contacts, in Alice's group `title`, settled. */
export async function aliceAndBob(title: string) {
  const relay = join(tempDir(), 'relay');
  const alice = await person('Alice', relay);
  const bob = await person('Bob', relay);
  befriend(alice, bob);
  const group = await createGroup(alice.profile, title, [bob.profile.account.accountId]);
  await settle([alice, bob]);
  return { alice, bob, group, relay };
}

/** Who `aliceBobCarol` makes: display names (default Alice, Bob, Carol) and whether Bob and Carol are contacts too. */
export interface ThreeOptions {
  readonly names?: readonly [string, string, string];
  readonly bobKnowsCarol?: boolean;
  /** The relay's address (default: a new folder relay). */
  readonly relay?: string;
}

/** Alice, Bob and Carol on one relay (a folder by default), Alice a contact of both, in Alice's group `title`, settled. */
export async function aliceBobCarol(title: string, options: ThreeOptions = {}) {
  const [aliceName, bobName, carolName] = options.names ?? ['Alice', 'Bob', 'Carol'];
  const relay = options.relay ?? join(tempDir(), 'relay');
  const alice = await person(aliceName, relay);
  const bob = await person(bobName, relay);
  const carol = await person(carolName, relay);
  befriend(alice, bob);
  befriend(alice, carol);
  if (options.bobKnowsCarol) befriend(bob, carol);
  const all = [alice, bob, carol];
  const group = await createGroup(alice.profile, title, [
    bob.profile.account.accountId,
    carol.profile.account.accountId,
  ]);
  await settle(all);
  return { alice, bob, carol, all, group, relay };
}

/** How many messages of `p`'s copy of the group have this body (0 without the group). */
export function groupMessageCount(p: Person, groupId: string, body: string): number {
  const group = loadGroup(p.profile.db, groupId);
  if (!group) return 0;
  return Number(
    p.profile.db
      .prepare('SELECT count(*) FROM group_messages WHERE group_ref = ? AND body = ?', {
        pluck: true,
      })
      .get([group.ref, body]),
  );
}
