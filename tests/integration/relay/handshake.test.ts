import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { relayIdSchema } from '../../../shared/relay/protocol.ts';
import {
  connectAnonymous,
  connectAs,
  newDevice,
  RelayTestClient,
  relayForFile,
} from '../../support/relay-client.ts';

describe('relay handshake and login', () => {
  const relay = relayForFile();

  it('every connection gets its own 32-byte nonce and the relay id the process printed', async () => {
    const first = await RelayTestClient.connect(relay.url);
    const second = await RelayTestClient.connect(relay.url);
    expect(first.nonce).toHaveLength(32);
    expect(toBase64(first.nonce)).not.toBe(toBase64(second.nonce));
    expect(relayIdSchema.parse(first.relayId)).toBe(relay.relayId);
    expect(second.relayId).toBe(relay.relayId);
    await Promise.all([first.close(), second.close()]);
  });

  it('a device that proves its account gets ready with its queue size, again on every later connection', async () => {
    const alice = newDevice();
    const first = await connectAs(relay.url, alice);
    expect(first.ready).toEqual({ type: 'ready', mode: 'account', accountId: alice.accountId, deviceId: 1, queued: 0 });
    await first.client.close();
    const again = await connectAs(relay.url, alice);
    expect(again.ready.accountId).toBe(alice.accountId);
    expect(await again.client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await again.client.close();
  });

  it("a second device logs in with the account's identity key", async () => {
    const alice = newDevice();
    const { client: phone } = await connectAs(relay.url, alice);
    const { client: laptop, ready } = await connectAs(relay.url, { ...alice, deviceId: 2 });
    expect(ready).toMatchObject({ accountId: alice.accountId, deviceId: 2 });
    await Promise.all([phone.close(), laptop.close()]);
  });

  it('an anonymous hello gets ready without any identity', async () => {
    const client = await RelayTestClient.connect(relay.url);
    expect(await client.anonymous()).toEqual({ type: 'ready', mode: 'anonymous' });
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await client.close();
  });

  it('requests before ready are refused as unauthenticated, and the connection can still log in', async () => {
    const bob = newDevice();
    const client = await RelayTestClient.connect(relay.url);
    expect(await client.request({ type: 'ack', envelopeIds: ['AAAAAAAAAAAAAAAAAAAAAA'] })).toMatchObject({
      type: 'error',
      id: 1,
      code: 'RELAY_ERR_UNAUTHENTICATED',
    });
    expect(await client.request({ type: 'ping' })).toMatchObject({ id: 2, code: 'RELAY_ERR_UNAUTHENTICATED' });
    // auth without hello is a frame before ready too.
    client.sendJson({
      type: 'auth',
      identityKey: toBase64(bob.identity.publicKey.serialize()),
      signature: toBase64(new Uint8Array(64)),
    });
    expect(await client.next('error')).toMatchObject({ code: 'RELAY_ERR_UNAUTHENTICATED' });
    expect(await client.authenticate(bob)).toMatchObject({ type: 'ready', accountId: bob.accountId });
    await client.close();
  });

  it('a protocol-1 hello (and any other version) is refused with UNSUPPORTED_VERSION and closed 1008', async () => {
    const carol = newDevice();
    const v1 = await RelayTestClient.connect(relay.url);
    v1.sendJson({ type: 'hello', protocol: 1, accountId: 'a'.repeat(32), deviceId: 1 });
    expect(await v1.next('error')).toMatchObject({ code: 'RELAY_ERR_UNSUPPORTED_VERSION' });
    expect((await v1.closed).code).toBe(1008);
    const v3 = await RelayTestClient.connect(relay.url);
    v3.sendJson({ type: 'hello', protocol: 3, mode: 'account', accountId: carol.accountId, deviceId: 1 });
    expect(await v3.next('error')).toMatchObject({ code: 'RELAY_ERR_UNSUPPORTED_VERSION' });
    expect((await v3.closed).code).toBe(1008);
  });

  it('a protocol-1 client at /v1 gets the challenge and, after its hello, UNSUPPORTED_VERSION; other paths get 404', async () => {
    const legacyUrl = relay.url.replace(/\/v2$/, '/v1');
    const legacy = await RelayTestClient.connect(legacyUrl);
    legacy.sendJson({ type: 'hello', protocol: 1, accountId: 'a'.repeat(32), deviceId: 1 });
    expect(await legacy.next('error')).toMatchObject({
      code: 'RELAY_ERR_UNSUPPORTED_VERSION',
      message: 'this relay speaks protocol 2; upgrade Sotto',
    });
    expect((await legacy.closed).code).toBe(1008);
    // Even a well-formed v2 hello at /v1 is told to use /v2's protocol.
    const confused = await RelayTestClient.connect(legacyUrl);
    confused.sendJson({ type: 'hello', protocol: 2, mode: 'anonymous' });
    expect(await confused.next('error')).toMatchObject({ code: 'RELAY_ERR_UNSUPPORTED_VERSION' });
    await expect(RelayTestClient.connect(relay.url.replace(/\/v2$/, '/v3'))).rejects.toThrow(/404/);
  });

  it('a hello whose mode and members disagree is MALFORMED', async () => {
    const dave = newDevice();
    const accountless = await RelayTestClient.connect(relay.url);
    accountless.sendJson({ type: 'hello', protocol: 2, mode: 'account' });
    expect(await accountless.next('error')).toMatchObject({ code: 'RELAY_ERR_MALFORMED' });
    expect((await accountless.closed).code).toBe(1008);
    const named = await RelayTestClient.connect(relay.url);
    named.sendJson({ type: 'hello', protocol: 2, mode: 'anonymous', accountId: dave.accountId, deviceId: 1 });
    expect(await named.next('error')).toMatchObject({ code: 'RELAY_ERR_MALFORMED' });
    expect((await named.closed).code).toBe(1008);
  });

  it('hello or auth after ready is MALFORMED and closes', async () => {
    const anonymous = await connectAnonymous(relay.url);
    anonymous.sendJson({ type: 'hello', protocol: 2, mode: 'anonymous' });
    expect(await anonymous.next('error')).toMatchObject({ code: 'RELAY_ERR_MALFORMED' });
    expect((await anonymous.closed).code).toBe(1008);
  });

  it("an account's sixth simultaneous connection is refused; closing one frees a slot", async () => {
    const erin = newDevice();
    const open = await Promise.all(Array.from({ length: 5 }, () => connectAs(relay.url, erin)));
    const sixth = await RelayTestClient.connect(relay.url);
    sixth.sendAuth(erin);
    expect(await sixth.next('error')).toMatchObject({ code: 'RELAY_ERR_TOO_MANY_CONNECTIONS' });
    expect((await sixth.closed).code).toBe(1008);
    // Other accounts, and anonymous connections, are unaffected.
    const { client: frank } = await connectAs(relay.url, newDevice());
    const anonymous = await connectAnonymous(relay.url);
    await Promise.all([frank.close(), anonymous.close()]);

    await open[0]!.client.close();
    // The relay notices the close asynchronously: retry until the slot is free.
    let ready = false;
    for (let attempt = 0; attempt < 50 && !ready; attempt++) {
      const client = await RelayTestClient.connect(relay.url);
      ready = await client.authenticate(erin).then(
        () => true,
        () => false,
      );
      await client.close();
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ready).toBe(true);
    await Promise.all(open.slice(1).map(({ client }) => client.close()));
  });
});
