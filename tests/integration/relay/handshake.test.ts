import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { connectAs, newDevice, RelayTestClient, relayForFile } from '../../support/relay-client.ts';

describe('relay handshake and authentication', () => {
  const relay = relayForFile();

  it('every connection gets its own 32-byte challenge nonce', async () => {
    const first = await RelayTestClient.connect(relay.url);
    const second = await RelayTestClient.connect(relay.url);
    expect(first.nonce).toHaveLength(32);
    expect(second.nonce).toHaveLength(32);
    expect(toBase64(first.nonce)).not.toBe(toBase64(second.nonce));
    await Promise.all([first.close(), second.close()]);
  });

  it('a device that proves its account gets ready with its queue size, again on every later connection', async () => {
    const alice = newDevice();
    const first = await connectAs(relay.url, alice);
    expect(first.ready).toEqual({
      type: 'ready',
      accountId: alice.accountId,
      deviceId: 1,
      queued: 0,
    });
    await first.client.close();
    const again = await connectAs(relay.url, alice);
    expect(again.ready.accountId).toBe(alice.accountId);
    expect(await again.client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await again.client.close();
  });

  it("a second device authenticates with the account's identity key", async () => {
    const alice = newDevice();
    const { client: phone } = await connectAs(relay.url, alice);
    const { client: laptop, ready } = await connectAs(relay.url, { ...alice, deviceId: 2 });
    expect(ready).toMatchObject({ accountId: alice.accountId, deviceId: 2 });
    await Promise.all([phone.close(), laptop.close()]);
  });

  it('requests before ready are refused as unauthenticated, and the connection can still authenticate', async () => {
    const bob = newDevice();
    const client = await RelayTestClient.connect(relay.url);
    expect(
      await client.request({ type: 'ack', envelopeIds: ['AAAAAAAAAAAAAAAAAAAAAA'] }),
    ).toMatchObject({
      type: 'error',
      id: 1,
      code: 'RELAY_ERR_UNAUTHENTICATED',
    });
    expect(await client.request({ type: 'ping' })).toMatchObject({
      type: 'error',
      id: 2,
      code: 'RELAY_ERR_UNAUTHENTICATED',
    });
    // auth without hello is a frame before ready too.
    client.sendJson({
      type: 'auth',
      identityKey: toBase64(bob.identity.publicKey.serialize()),
      signature: toBase64(new Uint8Array(64)),
    });
    expect(await client.next('error')).toMatchObject({ code: 'RELAY_ERR_UNAUTHENTICATED' });
    expect(await client.authenticate(bob)).toMatchObject({
      type: 'ready',
      accountId: bob.accountId,
    });
    await client.close();
  });

  it('a hello for another protocol version is refused and the connection closed', async () => {
    const carol = newDevice();
    const client = await RelayTestClient.connect(relay.url);
    client.sendJson({ type: 'hello', protocol: 2, accountId: carol.accountId, deviceId: 1 });
    expect(await client.next('error')).toMatchObject({ code: 'RELAY_ERR_UNSUPPORTED_VERSION' });
    expect((await client.closed).code).toBe(1008);
  });

  it("an account's sixth simultaneous connection is refused; closing one frees a slot", async () => {
    const dave = newDevice();
    const open = await Promise.all(Array.from({ length: 5 }, () => connectAs(relay.url, dave)));
    const sixth = await RelayTestClient.connect(relay.url);
    sixth.sendAuth(dave);
    expect(await sixth.next('error')).toMatchObject({ code: 'RELAY_ERR_TOO_MANY_CONNECTIONS' });
    expect((await sixth.closed).code).toBe(1008);
    // Other accounts are unaffected.
    const { client: erin } = await connectAs(relay.url, newDevice());
    await erin.close();

    await open[0]!.client.close();
    // The relay notices the close asynchronously: retry until the slot is free.
    let ready = false;
    for (let attempt = 0; attempt < 50 && !ready; attempt++) {
      const client = await RelayTestClient.connect(relay.url);
      ready = await client.authenticate(dave).then(
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
