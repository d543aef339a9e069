import { describe, expect, it } from 'vitest';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import {
  connectAnonymous,
  connectAs,
  newDevice,
  newToken,
  registeredDevice,
  relayForFile,
} from '../../support/relay-client.ts';
import { publishedKeysFor } from './fixtures.ts';

describe('relay key directory', () => {
  const relay = relayForFile(['--budget', 'device-fetches=1000/1000']);

  it('a fetch with the token hands out the published keys and consumes the oldest one-time keys, one of each kind', async () => {
    const bob = await registeredDevice(relay.url);
    const keys = publishedKeysFor(bob.device, 21);
    expect(await bob.client.request({ type: 'keys.publish', keys })).toEqual({ type: 'ok', id: 2 });
    const fetcher = await connectAnonymous(relay.url);
    const fetch = {
      type: 'keys.fetch',
      accountId: bob.device.accountId,
      deviceId: 1,
      token: bob.token,
    } as const;

    expect(await fetcher.request(fetch)).toEqual({
      type: 'bundle',
      id: 1,
      bundle: {
        accountId: bob.device.accountId,
        deviceId: 1,
        registrationId: keys.registrationId,
        identityKey: keys.identityKey,
        signedPreKey: keys.signedPreKey,
        kyberPreKey: keys.oneTimeKyberPreKeys[0],
        preKey: keys.oneTimePreKeys[0],
      },
    });
    expect(await fetcher.request(fetch)).toMatchObject({
      bundle: { preKey: keys.oneTimePreKeys[1], kyberPreKey: keys.oneTimeKyberPreKeys[1] },
    });
    // 21 → 19 left: below the threshold of 20, so the owner hears about it.
    expect(await bob.client.next('keys.low')).toEqual({
      type: 'keys.low',
      preKeys: 19,
      kyberPreKeys: 19,
    });
    await bob.client.close();
    // ...and again at its next ready while still low.
    const back = await registeredDevice(relay.url, bob.device);
    expect(await back.client.next('keys.low')).toEqual({
      type: 'keys.low',
      preKeys: 19,
      kyberPreKeys: 19,
    });
    await Promise.all([back.client.close(), fetcher.close()]);
  });

  it('without one-time keys a bundle carries the last-resort Kyber key and no EC prekey', async () => {
    const carol = await registeredDevice(relay.url);
    const keys = publishedKeysFor(carol.device, 1);
    await carol.client.request({ type: 'keys.publish', keys });
    const fetcher = await connectAnonymous(relay.url);
    const fetch = {
      type: 'keys.fetch',
      accountId: carol.device.accountId,
      deviceId: 1,
      token: carol.token,
    } as const;
    expect(await fetcher.request(fetch)).toMatchObject({
      bundle: { preKey: keys.oneTimePreKeys[0], kyberPreKey: keys.oneTimeKyberPreKeys[0] },
    });
    expect(await fetcher.request(fetch)).toMatchObject({
      bundle: { preKey: null, kyberPreKey: keys.lastResortKyberPreKey },
    });
    expect(await carol.client.next('keys.low')).toEqual({
      type: 'keys.low',
      preKeys: 0,
      kyberPreKeys: 0,
    });
    await Promise.all([carol.client.close(), fetcher.close()]);
  });

  it('republishing replaces the signed prekeys and adds only one-time keys whose ids are new; keys.status lists what is held', async () => {
    const dave = await registeredDevice(relay.url);
    const original = publishedKeysFor(dave.device, 3);
    await dave.client.request({ type: 'keys.publish', keys: original });
    // Ids 2-3 are still stored (their new public keys are ignored); 4 is new.
    const republished = publishedKeysFor(dave.device, 3, 2);
    await dave.client.request({ type: 'keys.publish', keys: republished });
    expect(await dave.client.request({ type: 'keys.status' })).toMatchObject({
      type: 'keys.status',
      preKeyIds: [1, 2, 3, 4],
      kyberPreKeyIds: [1, 2, 3, 4],
      signedPreKeyId: 1,
      lastResortKyberPreKeyId: 0xffffff,
    });
    const fetcher = await connectAnonymous(relay.url);
    const preKeys = [];
    for (let i = 0; i < 4; i++) {
      const answer = await fetcher.request({
        type: 'keys.fetch',
        accountId: dave.device.accountId,
        deviceId: 1,
        token: dave.token,
      });
      if (answer.type !== 'bundle') throw new Error(`expected a bundle, got ${answer.type}`);
      expect(answer.bundle.signedPreKey).toEqual(republished.signedPreKey);
      preKeys.push(answer.bundle.preKey);
    }
    expect(preKeys).toEqual([...original.oneTimePreKeys, republished.oneTimePreKeys[2]]);
    expect(await dave.client.request({ type: 'keys.status' })).toMatchObject({
      preKeyIds: [],
      kyberPreKeyIds: [],
    });
    await Promise.all([dave.client.close(), fetcher.close()]);
  });

  it('a device re-publishing keys the relay handed out (a lost answer, or on purpose) never gets one handed out twice', async () => {
    const frank = await registeredDevice(relay.url);
    const batch = publishedKeysFor(frank.device, 3);
    await frank.client.request({ type: 'keys.publish', keys: batch });
    const [alice, carol] = await Promise.all([
      connectAnonymous(relay.url),
      connectAnonymous(relay.url),
    ]);
    const fetch = {
      type: 'keys.fetch',
      accountId: frank.device.accountId,
      deviceId: 1,
      token: frank.token,
    } as const;
    const handedOut: unknown[] = [];
    const take = async (fetcher: typeof alice) => {
      const answer = await fetcher.request(fetch);
      if (answer.type !== 'bundle') throw new Error(`expected a bundle, got ${answer.type}`);
      if (answer.bundle.preKey !== null) handedOut.push(answer.bundle.preKey.id);
      return answer.bundle;
    };
    await take(alice);
    // The same batch again, then id 1 with a fresh public key: the relay answers ok and ignores both.
    for (const keys of [
      batch,
      { ...batch, oneTimePreKeys: publishedKeysFor(frank.device, 1).oneTimePreKeys },
    ])
      expect(await frank.client.request({ type: 'keys.publish', keys })).toMatchObject({
        type: 'ok',
      });
    expect(await frank.client.request({ type: 'keys.status' })).toMatchObject({
      preKeyIds: [2, 3],
      kyberPreKeyIds: [2, 3],
    });
    await take(carol);
    await frank.client.request({ type: 'keys.publish', keys: batch });
    await take(alice);
    expect(await take(carol)).toMatchObject({
      preKey: null,
      kyberPreKey: batch.lastResortKyberPreKey,
    });
    expect(handedOut).toEqual([1, 2, 3]);
    await Promise.all([frank.client.close(), alice.close(), carol.close()]);
  });

  it('keys.status before any publish: no ids, no signed or last-resort key', async () => {
    const erin = await registeredDevice(relay.url);
    expect(await erin.client.request({ type: 'keys.status' })).toEqual({
      type: 'keys.status',
      id: 2,
      preKeyIds: [],
      kyberPreKeyIds: [],
      signedPreKeyId: null,
      lastResortKyberPreKeyId: null,
    });
    await erin.client.close();
  });

  it('a fetch for an account with a token but no keys is NO_KEYS; for device 2 too; the connection stays usable', async () => {
    const frank = await registeredDevice(relay.url);
    const fetcher = await connectAnonymous(relay.url);
    const fetch = {
      type: 'keys.fetch',
      accountId: frank.device.accountId,
      deviceId: 1,
      token: frank.token,
    } as const;
    expect(await fetcher.request(fetch)).toMatchObject({
      type: 'error',
      code: 'RELAY_ERR_NO_KEYS',
    });
    await frank.client.request({ type: 'keys.publish', keys: publishedKeysFor(frank.device, 25) });
    expect(await fetcher.request({ ...fetch, deviceId: 2 })).toMatchObject({
      code: 'RELAY_ERR_NO_KEYS',
    });
    expect(await fetcher.request(fetch)).toMatchObject({ type: 'bundle' });
    expect(await fetcher.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await Promise.all([frank.client.close(), fetcher.close()]);
  });

  it('a fetch without the right token is BAD_TOKEN for a known account, an account without a token and an unknown one alike', async () => {
    const gina = await registeredDevice(relay.url);
    await gina.client.request({ type: 'keys.publish', keys: publishedKeysFor(gina.device, 5) });
    // Logged in and published, but never registered a token.
    const tokenless = newDevice();
    const { client: owner } = await connectAs(relay.url, tokenless);
    await owner.request({ type: 'keys.publish', keys: publishedKeysFor(tokenless, 5) });
    const fetcher = await connectAnonymous(relay.url);
    for (const [accountId, token] of [
      [gina.device.accountId, newToken()],
      [tokenless.accountId, newToken()],
      [newDevice().accountId, gina.token],
    ] as const) {
      expect(
        await fetcher.request({ type: 'keys.fetch', accountId, deviceId: 1, token }),
      ).toMatchObject({
        type: 'error',
        code: 'RELAY_ERR_BAD_TOKEN',
      });
    }
    expect(await gina.client.request({ type: 'keys.status' })).toMatchObject({
      preKeyIds: [1, 2, 3, 4, 5],
    });
    await Promise.all([gina.client.close(), fetcher.close(), owner.close()]);
  });

  it(`one-time keys: at most ${RELAY_LIMITS.maxOneTimeKeysPerPublish} per publish and ${RELAY_LIMITS.maxStoredOneTimeKeys} stored per kind; beyond, TOO_MANY_KEYS and nothing stored`, async () => {
    const hank = await registeredDevice(relay.url);
    const perFrame = RELAY_LIMITS.maxOneTimeKeysPerPublish;
    const oversized = publishedKeysFor(hank.device, perFrame + 1);
    expect(await hank.client.request({ type: 'keys.publish', keys: oversized })).toMatchObject({
      type: 'error',
      code: 'RELAY_ERR_TOO_MANY_KEYS',
    });
    expect(await hank.client.request({ type: 'keys.status' })).toMatchObject({
      preKeyIds: [],
      signedPreKeyId: null,
    });
    const rounds = RELAY_LIMITS.maxStoredOneTimeKeys / perFrame;
    for (let round = 0; round < rounds; round++) {
      const keys = publishedKeysFor(hank.device, perFrame, 1 + round * perFrame);
      expect(await hank.client.request({ type: 'keys.publish', keys })).toMatchObject({
        type: 'ok',
      });
    }
    const beyond = publishedKeysFor(hank.device, 1, 1 + rounds * perFrame);
    expect(await hank.client.request({ type: 'keys.publish', keys: beyond })).toMatchObject({
      code: 'RELAY_ERR_TOO_MANY_KEYS',
    });
    // Republishing ids already held adds nothing, so it is allowed at the cap.
    expect(
      await hank.client.request({ type: 'keys.publish', keys: publishedKeysFor(hank.device, 10) }),
    ).toMatchObject({ type: 'ok' });
    const status = await hank.client.request({ type: 'keys.status' });
    if (status.type !== 'keys.status') throw new Error('no status');
    expect(status.preKeyIds).toHaveLength(RELAY_LIMITS.maxStoredOneTimeKeys);
    expect(status.kyberPreKeyIds).toHaveLength(RELAY_LIMITS.maxStoredOneTimeKeys);
    await hank.client.close();
  });
});
