import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  connectAnonymous,
  connectAs,
  newDevice,
  newToken,
  RelayTestClient,
  registeredDevice,
  relayForFile,
} from '../../support/relay-client.ts';
import { moveNotice, publishedKeysFor, sendFrame, sendOk, submission } from './fixtures.ts';

describe('delivery tokens', () => {
  const relay = relayForFile([
    '--budget',
    'destination-messages=30/0.5',
    '--budget',
    'connection-refusals=1000/1000',
  ]);

  it('without a registered token, or with a wrong one, a send is BAD_TOKEN and nothing is stored', async () => {
    const tokenless = newDevice();
    const { client: owner } = await connectAs(relay.url, tokenless);
    const bob = await registeredDevice(relay.url);
    const stranger = await connectAnonymous(relay.url);
    for (const [to, token] of [
      [tokenless, newToken()],
      [bob.device, newToken()],
      [newDevice(), bob.token], // an account this relay never saw
    ] as const) {
      expect(await stranger.request(sendFrame(to, token, randomBytes(32)))).toMatchObject({
        type: 'error',
        code: 'RELAY_ERR_BAD_TOKEN',
      });
    }
    // The connection stays open, and nothing reached either mailbox.
    expect(await stranger.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    for (const device of [tokenless, bob.device]) {
      const { client, ready } = await connectAs(relay.url, device);
      expect(ready.queued).toBe(0);
      await client.close();
    }
    await Promise.all([owner.close(), bob.client.close(), stranger.close()]);
  });

  it("a stranger's junk without the token never reaches the mailbox, while a token holder's message still arrives", async () => {
    const bob = await registeredDevice(relay.url);
    const stranger = await connectAnonymous(relay.url);
    const friend = await connectAnonymous(relay.url);
    const junk = Array.from({ length: 100 }, () =>
      submission(bob.device, newToken(), randomBytes(200)),
    );
    const [flood, real] = await Promise.all([
      stranger.request({ type: 'send.batch', envelopes: junk }),
      sendOk(friend, bob.device, bob.token, Buffer.from('hello bob')),
    ]);
    expect(flood).toMatchObject({ type: 'sent' });
    if (flood.type !== 'sent') throw new Error('batch refused');
    expect(new Set(flood.results.map((r) => ('error' in r ? r.error : 'stored')))).toEqual(
      new Set(['RELAY_ERR_BAD_TOKEN']),
    );
    expect((await bob.client.envelopes(1)).map((e) => e.id)).toEqual([real]);
    // The junk did not use up the destination budget (30 here): a contact can still send 20 more.
    for (let i = 0; i < 20; i++) await sendOk(friend, bob.device, bob.token);
    await bob.client.request({ type: 'ping' });
    await Promise.all([bob.client.close(), stranger.close(), friend.close()]);
    const { client, ready } = await connectAs(relay.url, bob.device);
    expect(ready.queued).toBe(21);
    await client.close();
  });

  it('rotation: the old token is refused at once, the new one works, for sends and bundle fetches', async () => {
    const bob = await registeredDevice(relay.url);
    await bob.client.request({ type: 'keys.publish', keys: publishedKeysFor(bob.device, 30) });
    const sender = await connectAnonymous(relay.url);
    await sendOk(sender, bob.device, bob.token);
    const rotated = newToken();
    expect(await bob.client.request({ type: 'token.set', token: rotated })).toMatchObject({
      type: 'ok',
    });
    expect(await sender.request(sendFrame(bob.device, bob.token, randomBytes(16)))).toMatchObject({
      code: 'RELAY_ERR_BAD_TOKEN',
    });
    const fetch = { type: 'keys.fetch', accountId: bob.device.accountId, deviceId: 1 } as const;
    expect(await sender.request({ ...fetch, token: bob.token })).toMatchObject({
      code: 'RELAY_ERR_BAD_TOKEN',
    });
    expect(await sender.request({ ...fetch, token: rotated })).toMatchObject({ type: 'bundle' });
    await sendOk(sender, bob.device, rotated);
    await Promise.all([bob.client.close(), sender.close()]);
  });

  it('a contact turned hostile: its flood stops at the destination budget, rotating cuts it off, and the others keep sending', async () => {
    const bob = await registeredDevice(relay.url);
    const hostile = await connectAnonymous(relay.url);
    const stored: string[] = [];
    let refusal: unknown;
    for (let i = 0; i < 60 && refusal === undefined; i++) {
      const answer = await hostile.request(sendFrame(bob.device, bob.token, randomBytes(64)));
      if (answer.type === 'ok') stored.push(answer.envelopeId ?? '');
      else refusal = answer;
    }
    expect(refusal).toMatchObject({ code: 'RELAY_ERR_OVER_BUDGET' });
    expect((refusal as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    expect(stored.length).toBeGreaterThanOrEqual(29);
    expect(stored.length).toBeLessThanOrEqual(31);
    const rotated = newToken();
    await bob.client.request({ type: 'token.set', token: rotated });
    expect(await hostile.request(sendFrame(bob.device, bob.token, randomBytes(16)))).toMatchObject({
      code: 'RELAY_ERR_BAD_TOKEN',
    });
    // A trusted contact with the new token gets through once the budget refills (0.5/s here).
    const friend = await connectAnonymous(relay.url);
    let delivered = false;
    for (let attempt = 0; attempt < 40 && !delivered; attempt++) {
      const answer = await friend.request(sendFrame(bob.device, rotated, randomBytes(16)));
      delivered = answer.type === 'ok';
      if (!delivered) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(delivered).toBe(true);
    await Promise.all([bob.client.close(), hostile.close(), friend.close()]);
  });
});

describe('account.move', () => {
  const relay = relayForFile();

  it('a notice signed by the old key moves it: old logins, sends and fetches are refused, its open connections evicted', async () => {
    const old = await registeredDevice(relay.url);
    await old.client.request({ type: 'keys.publish', keys: publishedKeysFor(old.device, 25) });
    const { client: oldSecond } = await connectAs(relay.url, old.device);
    const fresh = await registeredDevice(relay.url);
    expect(
      await fresh.client.request({
        type: 'account.move',
        notice: moveNotice(old.device, fresh.device),
      }),
    ).toMatchObject({
      type: 'ok',
    });
    for (const client of [old.client, oldSecond]) {
      expect(await client.next('error')).toMatchObject({ code: 'RELAY_ERR_ACCOUNT_MOVED' });
      expect((await client.closed).code).toBe(4001);
    }
    const again = await RelayTestClient.connect(relay.url);
    again.sendAuth(old.device);
    expect(await again.next('error')).toMatchObject({ code: 'RELAY_ERR_ACCOUNT_MOVED' });
    expect((await again.closed).code).toBe(4001);
    const sender = await connectAnonymous(relay.url);
    expect(await sender.request(sendFrame(old.device, old.token, randomBytes(16)))).toMatchObject({
      code: 'RELAY_ERR_ACCOUNT_MOVED',
    });
    expect(
      await sender.request({
        type: 'keys.fetch',
        accountId: old.device.accountId,
        deviceId: 1,
        token: old.token,
      }),
    ).toMatchObject({ code: 'RELAY_ERR_ACCOUNT_MOVED' });
    // Only a token holder learns of the move; anyone else still hears "bad token".
    expect(await sender.request(sendFrame(old.device, newToken(), randomBytes(16)))).toMatchObject({
      code: 'RELAY_ERR_BAD_TOKEN',
    });
    // The same notice again (a replay) moves nothing more: FORBIDDEN.
    const replayed = moveNotice(old.device, fresh.device);
    expect(await fresh.client.request({ type: 'account.move', notice: replayed })).toMatchObject({
      code: 'RELAY_ERR_FORBIDDEN',
    });
    // The new account works as before.
    await sendOk(sender, fresh.device, fresh.token);
    await Promise.all([fresh.client.close(), sender.close()]);
  });

  it('forged, misdirected or unknown-origin notices are FORBIDDEN and move nothing', async () => {
    const victim = await registeredDevice(relay.url);
    const mallory = await registeredDevice(relay.url);
    const bystander = newDevice();
    const stranger = newDevice(); // never logged in here
    const unsigned = {
      ...moveNotice(victim.device, mallory.device),
      signature: toBase64(new Uint8Array(64)),
    };
    for (const notice of [
      moveNotice(victim.device, mallory.device, mallory.device.identity), // signed by the wrong key
      unsigned,
      moveNotice(victim.device, bystander), // names another account as the new one
      { ...moveNotice(victim.device, mallory.device), issuedAt: Date.now() + 1 }, // altered after signing
      moveNotice(stranger, mallory.device), // from an account never bound here
      moveNotice(mallory.device, mallory.device), // to itself
    ]) {
      expect(await mallory.client.request({ type: 'account.move', notice })).toMatchObject({
        type: 'error',
        code: 'RELAY_ERR_FORBIDDEN',
      });
    }
    // The victim is untouched: still connected, still receiving.
    const sender = await connectAnonymous(relay.url);
    const envelopeId = await sendOk(sender, victim.device, victim.token);
    expect((await victim.client.envelopes(1)).map((e) => e.id)).toEqual([envelopeId]);
    await Promise.all([victim.client.close(), mallory.client.close(), sender.close()]);
  });

  it('account.move on an anonymous connection is UNAUTHENTICATED', async () => {
    const old = await registeredDevice(relay.url);
    const fresh = newDevice();
    const anonymous = await connectAnonymous(relay.url);
    expect(
      await anonymous.request({ type: 'account.move', notice: moveNotice(old.device, fresh) }),
    ).toMatchObject({
      code: 'RELAY_ERR_UNAUTHENTICATED',
    });
    const { client, ready } = await connectAs(relay.url, old.device);
    expect(ready.type).toBe('ready');
    await Promise.all([old.client.close(), client.close(), anonymous.close()]);
  });
});
