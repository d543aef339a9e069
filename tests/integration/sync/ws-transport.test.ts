import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { publishedKeys } from '../../../electron/core/crypto/prekeys.ts';
import type { Profile } from '../../../electron/core/profile/profile.ts';
import {
  homeRelayId,
  pinHomeRelayId,
  setHomeRelay,
} from '../../../electron/core/sync/home-relay-setting.ts';
import { retryAfterOf, UNSENT } from '../../../electron/core/sync/relay-failure.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import type { SealedSubmission } from '../../../electron/core/sync/relay.ts';
import type { WebSocketRelayOptions } from '../../../electron/core/sync/ws-relay.ts';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { newProfile } from '../../support/profiles.ts';
import { type RecordingRelay, startRecordingRelay } from './support/recording-relay.ts';
import { startStallingProxy } from './support/stalling-proxy.ts';

// The WebSocket transport against relays that record what they are sent:
// what a client must never send (a login to anyone but its own, pinned
// relay), how it splits and maps answers, and how it notices a dead link.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function recordingRelay(
  ...args: Parameters<typeof startRecordingRelay>
): Promise<RecordingRelay> {
  const relay = await startRecordingRelay(...args);
  cleanups.push(() => relay.stop());
  return relay;
}

async function profileOn(
  address: string,
  options: WebSocketRelayOptions = {},
): Promise<{ profile: Profile; pool: RelayPool }> {
  const { profile } = await newProfile('Alice');
  setHomeRelay(profile, address);
  const pool = new RelayPool(profile, options);
  cleanups.push(() => pool.close());
  return { profile, pool };
}

function submission(to: string, bytes = 200): SealedSubmission {
  return {
    clientMessageId: randomUUID(),
    recipient: to as AccountId,
    recipientDevice: 1,
    token: randomBytes(16),
    body: randomBytes(bytes),
  };
}

const SOMEONE = '0f3c6a52-8e1d-4b7a-9c2e-5d4f3a2b1c0d';

describe('WebSocket transport', () => {
  it('logs in only to its own relay; a contact’s relay sees anonymous hellos, sends and fetches, never a login', async () => {
    const home = await recordingRelay();
    const contacts = await recordingRelay();
    const { profile, pool } = await profileOn(home.address);
    await pool.home.registerToken(randomBytes(16));
    const theirs = pool.get(contacts.address, contacts.relayId);
    expect(await theirs.sendBatch([submission(SOMEONE)])).toEqual([undefined]);
    await expect(
      theirs.fetchBundle({ accountId: SOMEONE as AccountId, deviceId: 1, token: randomBytes(16) }),
    ).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ERR_BAD_TOKEN',
    });

    const homeTypes = home.frames().map((f) => (f.type === 'hello' ? `hello:${f.mode}` : f.type));
    expect(homeTypes.slice(0, 3)).toEqual(['hello:account', 'auth', 'token.set']);
    const contactFrames = contacts.frames();
    expect(contactFrames.map((f) => (f.type === 'hello' ? `hello:${f.mode}` : f.type))).toEqual([
      'hello:anonymous',
      'send.batch',
      'keys.fetch',
    ]);
    expect(JSON.stringify(contactFrames)).not.toContain(profile.account.accountId);
  });

  it('the home relay’s own sends go over a second, anonymous connection', async () => {
    const home = await recordingRelay();
    const { profile, pool } = await profileOn(home.address);
    await pool.home.registerToken(randomBytes(16));
    await pool.get(home.address, home.relayId).sendBatch([submission(SOMEONE)]);
    expect(home.connections).toHaveLength(2);
    const [account, anonymous] = home.connections;
    expect(account!.frames.map((f) => f.type)).toEqual(['hello', 'auth', 'token.set']);
    expect(anonymous!.frames.map((f) => f.type)).toEqual(['hello', 'send.batch']);
    expect(JSON.stringify(anonymous!.frames)).not.toContain(profile.account.accountId);
  });

  it('pins the relay id at the first successful connection and puts it in nothing before', async () => {
    const home = await recordingRelay();
    const { profile, pool } = await profileOn(home.address);
    expect(homeRelayId(profile)).toBeUndefined();
    expect((await pool.home.health()).reachable).toBe(true);
    expect(homeRelayId(profile)).toBe(home.relayId);
  });

  it('sends no login (not even a hello) to a relay whose id differs from the pinned one', async () => {
    const impostor = await recordingRelay();
    const { profile, pool } = await profileOn(impostor.address);
    pinHomeRelayId(profile, randomBytes(16).toString('base64url'));
    await expect(pool.home.registerToken(randomBytes(16))).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ID_MISMATCH',
    });
    await expect(pool.home.receive(10, 0)).rejects.toMatchObject({ code: 'RELAY_REFUSED' });
    expect(impostor.frames()).toEqual([]);
  });

  it('refuses a contact’s relay whose id is not the one their invite pinned, before sending anything', async () => {
    const home = await recordingRelay();
    const other = await recordingRelay();
    const { pool } = await profileOn(home.address);
    const pinnedElsewhere = pool.get(other.address, randomBytes(16).toString('base64url'));
    await expect(pinnedElsewhere.sendBatch([submission(SOMEONE)])).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ID_MISMATCH',
    });
    expect(other.frames()).toEqual([]);
  });

  it('splits a large batch into frames within the count and size limits, in order', async () => {
    const relay = await recordingRelay();
    const { pool } = await profileOn(relay.address);
    const small = Array.from({ length: 250 }, () => submission(SOMEONE));
    const large = Array.from({ length: 3 }, () => submission(SOMEONE, 90 * 1024));
    const results = await pool.get(relay.address, relay.relayId).sendBatch([...small, ...large]);
    expect(results).toHaveLength(253);
    expect(results.every((r) => r === undefined)).toBe(true);
    const batches = relay.frames().filter((f) => f.type === 'send.batch');
    expect(batches.map((f) => f.envelopes.length)).toEqual([100, 100, 51, 2]); // greedy: a large one joins the last 50 small ones
    for (const frame of batches)
      expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(
        RELAY_LIMITS.maxFrameBytes,
      );
    expect(batches.flatMap((f) => f.envelopes.map((e) => e.clientMessageId))).toEqual(
      [...small, ...large].map((s) => s.clientMessageId),
    );
  });

  it('answers for an envelope too large for any frame without sending it', async () => {
    const relay = await recordingRelay();
    const { pool } = await profileOn(relay.address);
    const results = await pool
      .get(relay.address, relay.relayId)
      .sendBatch([submission(SOMEONE), submission(SOMEONE, RELAY_LIMITS.maxEnvelopeBytes + 1)]);
    expect(results).toEqual([undefined, 'RELAY_ERR_TOO_LARGE']);
    expect(
      relay
        .frames()
        .filter((f) => f.type === 'send.batch')
        .map((f) => f.envelopes.length),
    ).toEqual([1]);
  });

  it('maps budget refusals to RELAY_UNAVAILABLE with the relay’s retry hint, other refusals to RELAY_REFUSED with the code', async () => {
    let code = 'RELAY_ERR_OVER_BUDGET';
    const relay = await recordingRelay(undefined, (frame) =>
      frame.type === 'send.batch'
        ? { type: 'error', id: frame.id, code, message: 'x', retryAfterMs: 4_000 }
        : undefined,
    );
    const { pool } = await profileOn(relay.address);
    const anonymous = pool.get(relay.address, relay.relayId);
    for (const tryLater of [
      'RELAY_ERR_OVER_BUDGET',
      'RELAY_ERR_STORAGE_FULL',
      'RELAY_ERR_RATE_LIMITED',
      'RELAY_ERR_INTERNAL',
    ]) {
      code = tryLater;
      const error: unknown = await anonymous
        .sendBatch([submission(SOMEONE)])
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'RELAY_UNAVAILABLE', detail: tryLater });
      expect(retryAfterOf(error)).toBe(4_000);
    }
    code = 'RELAY_ERR_FORBIDDEN';
    await expect(anonymous.sendBatch([submission(SOMEONE)])).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ERR_FORBIDDEN',
    });
  });

  it('reports envelopes after a lost connection as UNSENT when earlier frames were stored', async () => {
    let batches = 0;
    const relay = await recordingRelay(undefined, (frame) => {
      if (frame.type === 'send.batch' && ++batches === 2)
        return { type: 'error', id: frame.id, code: 'RELAY_ERR_INTERNAL', message: 'x' };
      return undefined;
    });
    const { pool } = await profileOn(relay.address);
    const results = await pool
      .get(relay.address, relay.relayId)
      .sendBatch(Array.from({ length: 150 }, () => submission(SOMEONE)));
    expect(results.slice(0, 100).every((r) => r === undefined)).toBe(true);
    expect(results.slice(100)).toEqual(Array.from({ length: 50 }, () => UNSENT));
  });

  it('publishes one-time keys in frames of at most 50 of each kind', async () => {
    const relay = await recordingRelay();
    const { profile, pool } = await profileOn(relay.address);
    const keys = publishedKeys(profile.db, profile.account);
    expect(keys.oneTimePreKeys.length).toBeGreaterThan(RELAY_LIMITS.maxOneTimeKeysPerPublish);
    await pool.home.publishKeys(keys);
    const frames = relay.frames().filter((f) => f.type === 'keys.publish');
    expect(frames.length).toBe(Math.ceil(keys.oneTimePreKeys.length / 50));
    for (const frame of frames) {
      expect(frame.keys.oneTimePreKeys.length).toBeLessThanOrEqual(50);
      expect(frame.keys.oneTimeKyberPreKeys.length).toBeLessThanOrEqual(50);
    }
    expect(frames.flatMap((f) => f.keys.oneTimePreKeys.map((k) => k.id))).toEqual(
      keys.oneTimePreKeys.map((k) => k.id),
    );
  });

  it('notices a connection that went silent (ping unanswered) and reconnects', async () => {
    const relay = await recordingRelay();
    const proxy = await startStallingProxy(Number(new URL(relay.address).port));
    cleanups.push(() => proxy.stop());
    const { pool } = await profileOn(proxy.address, { pingIntervalMs: 200, pongTimeoutMs: 400 });
    expect((await pool.home.health()).reachable).toBe(true);
    const waiting = pool.home.receive(10, 60_000);
    proxy.stall();
    const started = Date.now();
    await expect(waiting).rejects.toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(10_000);
    proxy.resume();
    expect((await pool.home.health()).reachable).toBe(true);
    expect(proxy.connections()).toBe(2);
  });

  it('keeps an idle connection that answers its pings', async () => {
    const relay = await recordingRelay();
    const { pool } = await profileOn(relay.address, { pingIntervalMs: 100, pongTimeoutMs: 400 });
    expect(await pool.home.receive(10, 1_000)).toEqual([]);
    expect(relay.connections).toHaveLength(1);
    expect(relay.frames().filter((f) => f.type === 'ping').length).toBeGreaterThanOrEqual(3);
  });

  describe('a hostile or broken relay', () => {
    it('a bundle for another account than asked is refused', async () => {
      const { profile: other } = await newProfile('Mallory');
      const keys = publishedKeys(other.db, other.account);
      const relay = await recordingRelay(undefined, (frame) =>
        frame.type === 'keys.fetch'
          ? {
              type: 'bundle',
              id: frame.id,
              bundle: {
                ...keys,
                kyberPreKey: keys.lastResortKyberPreKey,
                preKey: null,
                oneTimePreKeys: undefined,
                oneTimeKyberPreKeys: undefined,
                lastResortKyberPreKey: undefined,
              },
            }
          : undefined,
      );
      const { pool } = await profileOn(relay.address);
      await expect(
        pool
          .get(relay.address, relay.relayId)
          .fetchBundle({ accountId: SOMEONE as AccountId, deviceId: 1, token: randomBytes(16) }),
      ).rejects.toMatchObject({ code: 'RELAY_REFUSED', detail: 'RELAY_ERR_MALFORMED' });
    });

    it('an answer with the wrong number of results is refused, not half-believed', async () => {
      const relay = await recordingRelay(undefined, (frame) =>
        frame.type === 'send.batch'
          ? { type: 'sent', id: frame.id, results: [{ envelopeId: 'abcdefghijkl' }] }
          : undefined,
      );
      const { pool } = await profileOn(relay.address);
      await expect(
        pool
          .get(relay.address, relay.relayId)
          .sendBatch([submission(SOMEONE), submission(SOMEONE)]),
      ).rejects.toMatchObject({
        code: 'RELAY_REFUSED',
      });
    });

    it('a malformed frame cuts the connection; the request fails as unavailable and the next one reconnects', async () => {
      let first = true;
      const relay = await recordingRelay(undefined, (frame) => {
        if (frame.type !== 'send.batch' || !first) return undefined;
        first = false;
        return '{"type": "sent", "id": "not a number", "results": []}';
      });
      const { pool } = await profileOn(relay.address);
      const anonymous = pool.get(relay.address, relay.relayId);
      await expect(anonymous.sendBatch([submission(SOMEONE)])).rejects.toMatchObject({
        code: 'RELAY_UNAVAILABLE',
      });
      expect(await anonymous.sendBatch([submission(SOMEONE)])).toEqual([undefined]);
      expect(relay.connections).toHaveLength(2);
    });

    it('a frame over 256 KiB from the relay closes the connection instead of being read', async () => {
      const relay = await recordingRelay(undefined, (frame) =>
        frame.type === 'send.batch'
          ? JSON.stringify({
              type: 'sent',
              id: frame.id,
              results: [{ envelopeId: 'abcdefghijkl' }],
              padding: 'x'.repeat(300 * 1024),
            })
          : undefined,
      );
      const { pool } = await profileOn(relay.address);
      await expect(
        pool.get(relay.address, relay.relayId).sendBatch([submission(SOMEONE)]),
      ).rejects.toMatchObject({
        code: 'RELAY_UNAVAILABLE',
      });
    });

    it('a relay that never sends its challenge is unavailable after the connect timeout', async () => {
      const relay = await recordingRelay();
      relay.silence();
      const { pool } = await profileOn(relay.address, { connectTimeoutMs: 500 });
      const started = Date.now();
      await expect(pool.home.registerToken(randomBytes(16))).rejects.toMatchObject({
        code: 'RELAY_UNAVAILABLE',
      });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(relay.frames()).toEqual([]);
    });
  });
});
