import { describe, expect, it } from 'vitest';
import { connectAs, newDevice, relayForFile } from '../../support/relay-client.ts';
import { publishedKeysFor } from './fixtures.ts';

describe('relay key directory', () => {
  const relay = relayForFile();

  it('a fetch hands out the published keys and consumes the oldest one-time keys, one of each kind', async () => {
    const bob = newDevice();
    const keys = publishedKeysFor(bob, 21);
    const { client: owner } = await connectAs(relay.url, bob);
    expect(await owner.request({ type: 'keys.publish', keys })).toEqual({ type: 'ok', id: 1 });
    const { client: fetcher } = await connectAs(relay.url, newDevice());

    const first = await fetcher.request({ type: 'keys.fetch', accountId: bob.accountId });
    expect(first).toEqual({
      type: 'bundle',
      id: 1,
      bundle: {
        accountId: bob.accountId,
        deviceId: 1,
        registrationId: keys.registrationId,
        identityKey: keys.identityKey,
        signedPreKey: keys.signedPreKey,
        kyberPreKey: keys.oneTimeKyberPreKeys[0],
        preKey: keys.oneTimePreKeys[0],
      },
    });
    const second = await fetcher.request({
      type: 'keys.fetch',
      accountId: bob.accountId,
      deviceId: 1,
    });
    expect(second).toMatchObject({
      bundle: { preKey: keys.oneTimePreKeys[1], kyberPreKey: keys.oneTimeKyberPreKeys[1] },
    });

    // 21 → 19 left: below the threshold of 20, so the owner hears about it.
    expect(await owner.next('keys.low')).toEqual({
      type: 'keys.low',
      preKeys: 19,
      kyberPreKeys: 19,
    });
    await owner.close();
    // ...and again at its next ready while still low.
    const { client: back, ready } = await connectAs(relay.url, bob);
    expect(ready.type).toBe('ready');
    expect(await back.next('keys.low')).toEqual({
      type: 'keys.low',
      preKeys: 19,
      kyberPreKeys: 19,
    });
    await Promise.all([back.close(), fetcher.close()]);
  });

  it('without one-time keys a bundle carries the last-resort Kyber key and no EC prekey', async () => {
    const carol = newDevice();
    const keys = publishedKeysFor(carol, 1);
    const { client: owner } = await connectAs(relay.url, carol);
    await owner.request({ type: 'keys.publish', keys });
    const { client: fetcher } = await connectAs(relay.url, newDevice());
    expect(await fetcher.request({ type: 'keys.fetch', accountId: carol.accountId })).toMatchObject(
      {
        bundle: { preKey: keys.oneTimePreKeys[0], kyberPreKey: keys.oneTimeKyberPreKeys[0] },
      },
    );
    expect(await fetcher.request({ type: 'keys.fetch', accountId: carol.accountId })).toMatchObject(
      {
        bundle: { preKey: null, kyberPreKey: keys.lastResortKyberPreKey },
      },
    );
    expect(await owner.next('keys.low')).toEqual({ type: 'keys.low', preKeys: 0, kyberPreKeys: 0 });
    await Promise.all([owner.close(), fetcher.close()]);
  });

  it('republishing replaces the signed prekeys and adds only one-time keys whose ids are new', async () => {
    const dave = newDevice();
    const original = publishedKeysFor(dave, 3);
    const { client: owner } = await connectAs(relay.url, dave);
    await owner.request({ type: 'keys.publish', keys: original });
    // Ids 2-3 are still stored (their new public keys are ignored); 4 is new.
    const republished = publishedKeysFor(dave, 3, 2);
    await owner.request({ type: 'keys.publish', keys: republished });
    const { client: fetcher } = await connectAs(relay.url, newDevice());
    const preKeys = [];
    for (let i = 0; i < 4; i++) {
      const answer = await fetcher.request({ type: 'keys.fetch', accountId: dave.accountId });
      if (answer.type !== 'bundle') throw new Error(`expected a bundle, got ${answer.type}`);
      expect(answer.bundle.signedPreKey).toEqual(republished.signedPreKey);
      expect(answer.bundle.registrationId).toBe(republished.registrationId);
      preKeys.push(answer.bundle.preKey);
    }
    expect(preKeys).toEqual([...original.oneTimePreKeys, republished.oneTimePreKeys[2]]);
    await Promise.all([owner.close(), fetcher.close()]);
  });

  it('a fetch for an account without keys is refused with NO_KEYS and the connection stays usable', async () => {
    const { client } = await connectAs(relay.url, newDevice());
    expect(
      await client.request({ type: 'keys.fetch', accountId: newDevice().accountId }),
    ).toMatchObject({
      type: 'error',
      code: 'RELAY_ERR_NO_KEYS',
    });
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await client.close();
  });

  it('keys are per device: device 2 has none until it publishes', async () => {
    const erin = newDevice();
    const { client: phone } = await connectAs(relay.url, erin);
    await phone.request({ type: 'keys.publish', keys: publishedKeysFor(erin, 25) });
    const { client: fetcher } = await connectAs(relay.url, newDevice());
    expect(
      await fetcher.request({ type: 'keys.fetch', accountId: erin.accountId, deviceId: 2 }),
    ).toMatchObject({
      code: 'RELAY_ERR_NO_KEYS',
    });
    expect(await fetcher.request({ type: 'keys.fetch', accountId: erin.accountId })).toMatchObject({
      type: 'bundle',
    });
    await Promise.all([phone.close(), fetcher.close()]);
  });
});
