import { randomBytes } from 'node:crypto';
import {
  DEFAULT_KDF_COST,
  listConversations,
  Profile,
  profilePaths,
} from '../../electron/core/index.ts';
import { unwrapDatabaseKey } from '../../electron/core/keys/database-key.ts';
import { readKeyFile } from '../../electron/core/keys/keyfile.ts';
import { unwrapWithPassphrase, wrapWithPassphrase } from '../../electron/core/keys/passphrase.ts';
import { type Latency, summarise, timeAsync } from '../support/stats.ts';

export interface OpenLatency {
  /** Profile.open + listConversations, from a closed profile. */
  readonly openToList: Latency;
  /** The Argon2id unwrap alone (part of Profile.open), at the bench cost. */
  readonly unwrap: Latency;
  /** listConversations alone, on the open profile. */
  readonly list: Latency;
  /** Background integrity check of the last open (runs after open returns). */
  readonly integrityMs: number;
}

/**
 * Opens the closed profile in `dir` `runs` times: each run times
 * Profile.open(dir, {passphrase}) + listConversations(db), then closes it
 * (closing waits for the background integrity check, untimed).
 */
export async function openLatency(
  dir: string,
  passphrase: string,
  runs: number,
): Promise<OpenLatency> {
  const openToList: number[] = [];
  const list: number[] = [];
  let integrityMs = 0;
  for (let i = 0; i < runs; i++) {
    const { value: profile, ms } = await timeAsync(async () => {
      const opened = await Profile.open(dir, { passphrase });
      if (listConversations(opened.db).length === 0) throw new Error('no conversations');
      return opened;
    });
    openToList.push(ms);
    const again = await timeAsync(() => Promise.resolve(listConversations(profile.db)));
    list.push(again.ms);
    integrityMs = (await profile.integrity).millis;
    await profile.close();
  }
  const unwrap: number[] = [];
  for (let i = 0; i < runs; i++) {
    const file = readKeyFile(profilePaths(dir).keyFile);
    unwrap.push((await timeAsync(() => unwrapDatabaseKey(file, { passphrase }))).ms);
  }
  return {
    openToList: summarise(openToList),
    unwrap: summarise(unwrap),
    list: summarise(list),
    integrityMs,
  };
}

/**
 * The same unwrap at the product's DEFAULT_KDF_COST, for context: what a real
 * Profile.open would add on top of the bench figure.
 */
export async function productCostUnwrap(runs: number): Promise<Latency> {
  const key = randomBytes(32);
  const wrapper = await wrapWithPassphrase(
    key,
    'bench passphrase',
    'bench-profile',
    DEFAULT_KDF_COST,
  );
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    times.push(
      (await timeAsync(() => unwrapWithPassphrase(wrapper, 'bench passphrase', 'bench-profile')))
        .ms,
    );
  }
  return summarise(times);
}
