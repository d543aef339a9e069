import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { describe, expect, it } from 'vitest';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import {
  connectAnonymous,
  newToken,
  type RelayTestClient,
  registeredDevice,
  relayDataDir,
  relayForFile,
} from '../../support/relay-client.ts';
import { startRelayProcess } from '../../support/relay-process.ts';
import { publishedKeysFor, sendFrame, sendOk, submission } from './fixtures.ts';

/** Median of `count` ping round trips on `client`, in ms. */
async function medianPing(client: RelayTestClient, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await client.request({ type: 'ping' });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

describe('prekey fetch budgets', () => {
  const relay = relayForFile(['--budget', 'device-fetches=20/0.001', '--budget', 'address-fetches=60/0.001']);

  it('a drain loop, even with the token, stops at the per-device budget and the stock stays above zero', async () => {
    const bob = await registeredDevice(relay.url);
    await bob.client.request({ type: 'keys.publish', keys: publishedKeysFor(bob.device, RELAY_LIMITS.maxOneTimeKeysPerPublish) });
    const drainer = await connectAnonymous(relay.url);
    const fetch = { type: 'keys.fetch', accountId: bob.device.accountId, deviceId: 1, token: bob.token } as const;
    let bundles = 0;
    let refusal: unknown;
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      const answer = await drainer.request(fetch);
      if (answer.type === 'bundle') bundles += 1;
      else refusal = answer;
    }
    expect(bundles).toBe(20);
    expect(refusal).toMatchObject({ code: 'RELAY_ERR_OVER_BUDGET' });
    expect((refusal as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    // A fresh connection does not reset the budget: it is the device's, not the connection's.
    const again = await connectAnonymous(relay.url);
    expect(await again.request(fetch)).toMatchObject({ code: 'RELAY_ERR_OVER_BUDGET' });
    const status = await bob.client.request({ type: 'keys.status' });
    if (status.type !== 'keys.status') throw new Error('no status');
    expect(status.preKeyIds).toHaveLength(RELAY_LIMITS.maxOneTimeKeysPerPublish - 20);
    await Promise.all([bob.client.close(), drainer.close(), again.close()]);
  });

  it('strangers without the token spend their address budget, not the target device: after it, even a right token is over budget', async () => {
    const carol = await registeredDevice(relay.url);
    await carol.client.request({ type: 'keys.publish', keys: publishedKeysFor(carol.device, 30) });
    const stranger = await connectAnonymous(relay.url);
    const fetch = { type: 'keys.fetch', accountId: carol.device.accountId, deviceId: 1 } as const;
    // The first test spent 22 of this address's 60 (20 bundles, 2 refusals); wrong tokens spend the rest.
    const codes: string[] = [];
    for (let i = 0; i < 45; i++) {
      const answer = await stranger.request({ ...fetch, token: newToken() });
      codes.push(answer.type === 'error' ? answer.code : answer.type);
    }
    expect(codes.filter((code) => code === 'RELAY_ERR_BAD_TOKEN')).toHaveLength(38);
    expect(codes.slice(38).every((code) => code === 'RELAY_ERR_OVER_BUDGET')).toBe(true);
    expect(await stranger.request({ ...fetch, token: carol.token })).toMatchObject({ code: 'RELAY_ERR_OVER_BUDGET' });
    // Carol's own stock was never touched.
    const status = await carol.client.request({ type: 'keys.status' });
    expect(status).toMatchObject({ type: 'keys.status' });
    if (status.type === 'keys.status') expect(status.preKeyIds).toHaveLength(30);
    await Promise.all([carol.client.close(), stranger.close()]);
  });
});

describe('send budgets per source', () => {
  const relay = relayForFile(['--budget', 'connection-sends=10/0.001', '--budget', 'address-sends=25/0.001']);

  it('one anonymous connection is held to its own budget; the address budget caps many connections together', async () => {
    const bob = await registeredDevice(relay.url);
    const first = await connectAnonymous(relay.url);
    const batch = Array.from({ length: 15 }, () => submission(bob.device, bob.token, randomBytes(32)));
    const answer = await first.request({ type: 'send.batch', envelopes: batch });
    if (answer.type !== 'sent') throw new Error('batch refused');
    const codes = answer.results.map((r) => ('error' in r ? r.error : 'stored'));
    const times = (n: number, code: string) => Array.from({ length: n }, () => code);
    expect(codes).toEqual([...times(10, 'stored'), ...times(5, 'RELAY_ERR_OVER_BUDGET')]);
    const second = await connectAnonymous(relay.url);
    const third = await connectAnonymous(relay.url);
    for (let i = 0; i < 10; i++) await sendOk(second, bob.device, bob.token);
    // 20 of the address's 25 are spent: the third connection gets 5.
    const results = [];
    for (let i = 0; i < 8; i++) results.push((await third.request(sendFrame(bob.device, bob.token, randomBytes(8)))).type);
    expect(results).toEqual([...times(5, 'ok'), ...times(3, 'error')]);
    await Promise.all([bob.client.close(), first.close(), second.close(), third.close()]);
  });
});

describe('one connection does not slow the relay for the others', () => {
  const relay = relayForFile([
    '--budget', 'connection-sends=100000000/100000000',
    '--budget', 'connection-bytes=100000000000/100000000000',
    '--budget', 'destination-messages=100000000/100000000',
    '--budget', 'destination-bytes=100000000000/100000000000',
    '--mailbox-quota', '100000000',
    '--max-frames-per-second', '100000',
  ]);

  it("a flood of stored envelopes on one connection leaves another client's ping within 2x of idle (median of 50)", async () => {
    const bob = await registeredDevice(relay.url);
    const watcher = await registeredDevice(relay.url);
    await medianPing(watcher.client, 20); // warm up
    const idle = await medianPing(watcher.client, 50);

    const flooder = await connectAnonymous(relay.url);
    let flooding = true;
    let stored = 0;
    // Four batches of 100 in flight at all times, each one durable commit.
    const pump = async () => {
      while (flooding) {
        const envelopes = Array.from({ length: 100 }, () => submission(bob.device, bob.token, randomBytes(1024)));
        const answer = await flooder.request({ type: 'send.batch', envelopes });
        if (answer.type === 'sent') stored += answer.results.filter((r) => 'envelopeId' in r).length;
      }
    };
    const pumps = [pump(), pump(), pump(), pump()];
    // Progress, not a sleep: the flood is under way once the first batches are stored.
    while (stored < 1000) await new Promise((resolve) => setImmediate(resolve));
    const during = await medianPing(watcher.client, 50);
    flooding = false;
    await Promise.all(pumps);
    expect(stored).toBeGreaterThan(1000);
    // Sub-millisecond loopback round trips are below what a shared 2-core machine
    // can time: idle counts as at least 2 ms. The review measured 1 ms → 688 ms.
    expect(during).toBeLessThanOrEqual(2 * Math.max(idle, 2));
    await Promise.all([bob.client.close(), watcher.client.close(), flooder.close()]);
  });
});

describe('the global storage budget', () => {
  it('refuses new envelopes with STORAGE_FULL once full, keeps what it holds intact, and accepts again after acks', async () => {
    const dataDir = relayDataDir();
    const relay = await startRelayProcess(dataDir, { args: ['--max-storage-mb', '1'] });
    try {
      const bob = await registeredDevice(relay.url);
      const sender = await connectAnonymous(relay.url);
      const body = randomBytes(RELAY_LIMITS.maxEnvelopeBytes);
      const stored: string[] = [];
      let refusal: unknown;
      while (refusal === undefined && stored.length < 20) {
        const answer = await sender.request(sendFrame(bob.device, bob.token, body));
        if (answer.type === 'ok') stored.push(answer.envelopeId ?? '');
        else refusal = answer;
      }
      expect(refusal).toMatchObject({ code: 'RELAY_ERR_STORAGE_FULL' });
      expect(stored).toHaveLength(Math.floor((1024 * 1024) / RELAY_LIMITS.maxEnvelopeBytes));
      // Everything stored is still delivered whole.
      const pushed = await bob.client.envelopes(stored.length);
      expect(pushed.map((e) => e.id)).toEqual(stored);
      expect(await bob.client.request({ type: 'ack', envelopeIds: stored.slice(0, 2) })).toMatchObject({ type: 'ok' });
      await sendOk(sender, bob.device, bob.token, body);
      await Promise.all([bob.client.close(), sender.close()]);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
    const db = new Database(join(dataDir, 'relay.db'));
    expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    db.close();
  });
});
