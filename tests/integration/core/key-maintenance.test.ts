import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addContact,
  processEnvelopes,
  Profile,
  queueText,
  startSession,
} from '../../../electron/core/index.ts';
import {
  GRACE_MS,
  MAX_HANDED_OUT_KEPT,
  maintainKeys,
  ONE_TIME_CAP,
  ONE_TIME_STOCK,
  ROTATE_AFTER_MS,
} from '../../../electron/core/crypto/key-maintenance.ts';
import type { PreKeyBundleData } from '../../../shared/protocol/keys.ts';
import { FileHomeRelay } from '../../support/file-home-relay.ts';
import { cardOf, flushOutbox, newProfile, tempDir } from '../../support/profiles.ts';

const DAY = 24 * 60 * 60 * 1000;

function count(profile: Profile, sql: string): number {
  return Number(profile.db.prepare(sql, { pluck: true }).get());
}

/** A peer writes its first message from `bundle`: a PreKey message only `owner`'s matching private keys open. */
async function firstMessageFrom(peerName: string, owner: Profile, bundle: PreKeyBundleData) {
  const { profile: peer } = await newProfile(peerName);
  addContact(peer, cardOf(owner));
  await startSession(peer, bundle, owner.account.accountId);
  queueText(peer, owner.account.accountId, `hello from ${peerName}`);
  return flushOutbox(peer);
}

function runChild(dir: string, relayFile: string, now: number, fault?: string) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>(
    (resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(process.cwd(), 'tests/support/maintain-keys-child.ts'),
          dir,
          relayFile,
          String(now),
        ],
        {
          env: {
            ...process.env,
            SOTTO_PASSPHRASE: 'Victim passphrase',
            ...(fault ? { SOTTO_TEST_FAULT: fault } : {}),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ code, signal, stdout }));
    },
  );
}

describe('signed and last-resort key rotation', () => {
  it('rotates every 2 days, keeps the previous keys for the grace period, then deletes them', async () => {
    const { profile: victim } = await newProfile('Victim');
    const relay = new FileHomeRelay(join(tempDir(), 'relay.json'));
    const t0 = Date.now();
    expect(await maintainKeys(victim, relay, t0)).toMatchObject({ rotated: false });
    const firstSigned = relay.keys!.signedPreKey.id;
    // A bundle fetched now, used only after the rotation (a message in flight).
    const early = await relay.bundleFor(victim.account.accountId);
    expect(await maintainKeys(victim, relay, t0 + DAY)).toMatchObject({ rotated: false });

    expect(await maintainKeys(victim, relay, t0 + ROTATE_AFTER_MS + 1)).toMatchObject({
      rotated: true,
    });
    expect(relay.keys!.signedPreKey.id).not.toBe(firstSigned);
    expect(
      victim.db.prepare('SELECT state FROM signed_pre_keys ORDER BY id', { pluck: true }).all(),
    ).toEqual(['previous', 'current']);
    expect(
      victim.db
        .prepare('SELECT state FROM kyber_pre_keys WHERE last_resort = 1 ORDER BY id', {
          pluck: true,
        })
        .all(),
    ).toEqual(['previous', 'current']);
    const inFlight = await firstMessageFrom('Early', victim, {
      ...early,
      preKey: null,
      kyberPreKey: early.kyberPreKey,
    });
    expect((await processEnvelopes(victim, inFlight)).map((o) => o.outcome)).toEqual(['stored']);

    // After the grace period the replaced keys are gone: a message made from them no longer opens.
    const late = await firstMessageFrom('Late', victim, {
      ...early,
      preKey: null,
      kyberPreKey: early.kyberPreKey,
    });
    await maintainKeys(victim, relay, t0 + ROTATE_AFTER_MS + 1 + GRACE_MS + 1);
    expect(count(victim, "SELECT count(*) FROM signed_pre_keys WHERE state = 'previous'")).toBe(1); // the one replaced at this pass
    expect(count(victim, `SELECT count(*) FROM signed_pre_keys WHERE id = ${firstSigned}`)).toBe(0);
    expect((await processEnvelopes(victim, late)).map((o) => o.outcome)).toEqual(['retry']);
  });
});

describe('rotation across a crash (kill -9 of a real process between generate and publish)', () => {
  async function victimWithRelay() {
    const { dir, profile } = await newProfile('Victim');
    const relayFile = join(tempDir(), 'relay.json');
    const t0 = Date.now();
    await maintainKeys(profile, new FileHomeRelay(relayFile), t0);
    await profile.close();
    return { dir, relayFile, t0 };
  }

  it('killed after generating: the relay still hands out the old key, which decrypts; the next pass publishes the pending key', async () => {
    const { dir, relayFile, t0 } = await victimWithRelay();
    const due = t0 + ROTATE_AFTER_MS + 1;
    const killed = await runChild(dir, relayFile, due, 'keys.after-generate');
    expect(killed.signal).toBe('SIGKILL');
    const relay = new FileHomeRelay(relayFile);
    const victim = await Profile.open(dir, { passphrase: 'Victim passphrase' });
    try {
      expect(
        victim.db.prepare('SELECT state FROM signed_pre_keys ORDER BY id', { pluck: true }).all(),
      ).toEqual(['current', 'pending']);
      const envelopes = await firstMessageFrom(
        'Peer',
        victim,
        await relay.bundleFor(victim.account.accountId),
      );
      expect((await processEnvelopes(victim, envelopes)).map((o) => o.outcome)).toEqual(['stored']);
      // Resumes: the pending key is the one published, no second key is made.
      expect(await maintainKeys(victim, relay, due + 1)).toMatchObject({ rotated: false });
      expect(
        victim.db.prepare('SELECT state FROM signed_pre_keys ORDER BY id', { pluck: true }).all(),
      ).toEqual(['previous', 'current']);
    } finally {
      await victim.close();
    }
  });

  it('killed after the relay took the new key: its private half was committed first, so messages made from it decrypt', async () => {
    const { dir, relayFile, t0 } = await victimWithRelay();
    const killed = await runChild(dir, relayFile, t0 + ROTATE_AFTER_MS + 1, 'keys.after-publish');
    expect(killed.signal).toBe('SIGKILL');
    const relay = new FileHomeRelay(relayFile);
    const victim = await Profile.open(dir, { passphrase: 'Victim passphrase' });
    try {
      const pendingId = Number(
        victim.db
          .prepare("SELECT id FROM signed_pre_keys WHERE state = 'pending'", { pluck: true })
          .get(),
      );
      expect(relay.keys!.signedPreKey.id).toBe(pendingId);
      const envelopes = await firstMessageFrom(
        'Peer',
        victim,
        await relay.bundleFor(victim.account.accountId),
      );
      expect((await processEnvelopes(victim, envelopes)).map((o) => o.outcome)).toEqual(['stored']);
      await maintainKeys(victim, relay, t0 + ROTATE_AFTER_MS + 2);
      expect(
        victim.db
          .prepare(`SELECT state FROM signed_pre_keys WHERE id = ${pendingId}`, { pluck: true })
          .get(),
      ).toBe('current');
    } finally {
      await victim.close();
    }
  });

  it('a pass that is not killed exits cleanly (the fault hook is inert when unset)', async () => {
    const { dir, relayFile, t0 } = await victimWithRelay();
    const run = await runChild(dir, relayFile, t0 + ROTATE_AFTER_MS + 1);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rotated: true });
  });
});

describe('one-time keys: fixed stock, capped, handed-out keys expire', () => {
  it('publishes at most 50 per kind per frame, refills to 100, never beyond the relay cap', async () => {
    const { profile: victim } = await newProfile('Victim');
    const frames: number[] = [];
    const relay = new FileHomeRelay(join(tempDir(), 'relay.json'));
    const publish = relay.publishKeys.bind(relay);
    relay.publishKeys = (keys) => {
      frames.push(Math.max(keys.oneTimePreKeys.length, keys.oneTimeKyberPreKeys.length));
      return publish(keys);
    };
    await maintainKeys(victim, relay, Date.now());
    expect(frames).toEqual([50, 50]);
    expect(relay.keys!.oneTimePreKeys).toHaveLength(ONE_TIME_STOCK);
    expect(relay.keys!.oneTimeKyberPreKeys).toHaveLength(ONE_TIME_STOCK);
    frames.length = 0;
    await maintainKeys(victim, relay, Date.now());
    expect(frames).toEqual([]); // nothing to do
    expect(relay.keys!.oneTimePreKeys.length).toBeLessThanOrEqual(ONE_TIME_CAP);
  });

  it('a stranger fetching bundles in a loop leaves the victim key store bounded', async () => {
    const { profile: victim } = await newProfile('Victim');
    const relay = new FileHomeRelay(join(tempDir(), 'relay.json'));
    let now = Date.now();
    await maintainKeys(victim, relay, now);
    const rows = () => ({
      pre: count(victim, 'SELECT count(*) FROM pre_keys'),
      kyber: count(victim, 'SELECT count(*) FROM kyber_pre_keys WHERE last_resort = 0'),
    });
    const before = rows();
    expect(before).toEqual({ pre: ONE_TIME_STOCK, kyber: ONE_TIME_STOCK });
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 120; i++) await relay.bundleFor(victim.account.accountId); // drains the stock, then last resort
      now += 60_000;
      await maintainKeys(victim, relay, now);
      const { pre, kyber } = rows();
      expect(pre).toBeLessThanOrEqual(ONE_TIME_STOCK + MAX_HANDED_OUT_KEPT);
      expect(kyber).toBeLessThanOrEqual(ONE_TIME_STOCK + MAX_HANDED_OUT_KEPT);
    }
    // 960 bundles later the store holds the stock plus the capped handed-out keys ...
    expect(rows()).toEqual({
      pre: ONE_TIME_STOCK + MAX_HANDED_OUT_KEPT,
      kyber: ONE_TIME_STOCK + MAX_HANDED_OUT_KEPT,
    });
    // ... and once their grace period is over, only the stock.
    await maintainKeys(victim, relay, now + GRACE_MS + 1);
    expect(rows()).toEqual(before);
  });

  it('a handed-out key that a real peer used is gone at once; an unused one survives the grace period for late messages', async () => {
    const { profile: victim } = await newProfile('Victim');
    const relay = new FileHomeRelay(join(tempDir(), 'relay.json'));
    const t0 = Date.now();
    await maintainKeys(victim, relay, t0);
    const used = await relay.bundleFor(victim.account.accountId);
    const slow = await relay.bundleFor(victim.account.accountId);
    await processEnvelopes(victim, await firstMessageFrom('Quick', victim, used));
    expect(count(victim, `SELECT count(*) FROM pre_keys WHERE id = ${used.preKey!.id}`)).toBe(0);
    await maintainKeys(victim, relay, t0 + GRACE_MS - 1);
    expect(
      count(victim, `SELECT handed_out_at IS NOT NULL FROM pre_keys WHERE id = ${slow.preKey!.id}`),
    ).toBe(1);
    expect(
      (await processEnvelopes(victim, await firstMessageFrom('Slow', victim, slow))).map(
        (o) => o.outcome,
      ),
    ).toEqual(['stored']);
  });

  it('a relay that claims every key was handed out cannot make the victim grow its store', async () => {
    const { profile: victim } = await newProfile('Victim');
    const relay = new FileHomeRelay(join(tempDir(), 'relay.json'));
    relay.keyStatus = () =>
      Promise.resolve({
        preKeyIds: [],
        kyberPreKeyIds: [],
        signedPreKeyId: null,
        lastResortKyberPreKeyId: null,
      });
    relay.publishKeys = () => Promise.resolve(); // takes everything, keeps nothing
    const now = Date.now();
    for (let pass = 0; pass < 8; pass++) await maintainKeys(victim, relay, now + pass);
    expect(count(victim, 'SELECT count(*) FROM pre_keys')).toBe(
      ONE_TIME_STOCK + MAX_HANDED_OUT_KEPT,
    );
    expect(count(victim, 'SELECT count(*) FROM kyber_pre_keys WHERE last_resort = 0')).toBe(
      ONE_TIME_STOCK + MAX_HANDED_OUT_KEPT,
    );
    expect(count(victim, 'SELECT count(*) FROM signed_pre_keys')).toBe(1);
  });
});
