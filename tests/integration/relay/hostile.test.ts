import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { authMessage, type RelayErrorCode } from '../../../shared/relay/protocol.ts';
import {
  accountIdOf,
  connectAs,
  newDevice,
  RelayTestClient,
  relayForFile,
} from '../../support/relay-client.ts';
import { publishedKeysFor, sendFrame } from './fixtures.ts';

/** Waits for the error frame that refuses the connection and for its close. */
async function expectRefusedAndClosed(
  client: RelayTestClient,
  code: RelayErrorCode,
  closeCode: number,
): Promise<void> {
  expect(await client.next('error')).toMatchObject({ code });
  expect((await client.closed).code).toBe(closeCode);
}

// One relay, attacked test by test, while an honest pair stays connected:
// after every attack the pair must still exchange a message on the same sockets.
describe('hostile clients are refused while honest ones keep working', () => {
  // Registered first, so its afterAll (which stops the relay) runs last.
  const relay = relayForFile();
  const [alice, bob] = [newDevice(), newDevice()];
  let aliceClient: RelayTestClient;
  let bobClient: RelayTestClient;

  async function honestPairStillWorks(): Promise<void> {
    const body = randomBytes(64);
    const answer = await aliceClient.request(sendFrame(bob, body));
    expect(answer).toMatchObject({ type: 'ok' });
    const [envelope] = await bobClient.envelopes(1);
    expect(envelope).toMatchObject({ from: alice.accountId, body: toBase64(body) });
    expect(await bobClient.request({ type: 'ack', envelopeIds: [envelope!.id] })).toMatchObject({
      type: 'ok',
    });
  }

  beforeAll(async () => {
    ({ client: aliceClient } = await connectAs(relay.url, alice));
    ({ client: bobClient } = await connectAs(relay.url, bob));
    await honestPairStillWorks();
  });
  afterAll(async () => {
    await Promise.all([aliceClient.close(), bobClient.close()]);
  });

  it('text that is not JSON is MALFORMED and closes only that connection', async () => {
    const mallory = await RelayTestClient.connect(relay.url);
    mallory.socket.send('{"type": "hello", garbage');
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_MALFORMED', 1008);
    await honestPairStillWorks();
  });

  it('garbage bytes instead of a WebSocket handshake are dropped', async () => {
    const url = new URL(relay.url);
    const socket = connect(Number(url.port), url.hostname);
    socket.on('connect', () => socket.write(randomBytes(4096)));
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });
    expect(reply).not.toContain('101 Switching Protocols');
    await honestPairStillWorks();
  });

  it('a binary frame is MALFORMED, even holding valid JSON', async () => {
    const mallory = await RelayTestClient.connect(relay.url);
    mallory.socket.send(Buffer.from(JSON.stringify({ type: 'ping', id: 1 })), { binary: true });
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_MALFORMED', 1008);
    await honestPairStillWorks();
  });

  it('a frame over 256 KiB closes the connection with 1009 and no error frame', async () => {
    const { client: mallory } = await connectAs(relay.url, newDevice());
    mallory.sendJson({
      ...sendFrame(bob, randomBytes(200 * 1024)),
      id: 1,
      padding: 'x'.repeat(60 * 1024),
    });
    expect((await mallory.closed).code).toBe(1009);
    expect(mallory.history.filter((frame) => frame.type === 'error')).toEqual([]);
    await honestPairStillWorks();
  });

  it('an unknown frame type is UNKNOWN_TYPE and closes the connection', async () => {
    const { client: mallory } = await connectAs(relay.url, newDevice());
    mallory.sendJson({ type: 'mailbox.dump', id: 7 });
    expect(await mallory.next('error')).toMatchObject({ id: 7, code: 'RELAY_ERR_UNKNOWN_TYPE' });
    expect((await mallory.closed).code).toBe(1008);
    await honestPairStillWorks();
  });

  it('a known type with invalid fields is MALFORMED', async () => {
    const { client: mallory } = await connectAs(relay.url, newDevice());
    mallory.sendJson({ type: 'ack', id: 3, envelopeIds: [] });
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_MALFORMED', 1008);
    await honestPairStillWorks();
  });

  it('an envelope body that is not padded base64 is MALFORMED', async () => {
    const { client: mallory } = await connectAs(relay.url, newDevice());
    expect(
      await mallory.request({ ...sendFrame(bob, randomBytes(4)), body: 'YWJj' + 'ZA' }),
    ).toMatchObject({
      type: 'error',
      code: 'RELAY_ERR_MALFORMED',
    });
    expect((await mallory.closed).code).toBe(1008);
    await honestPairStillWorks();
  });

  it("reading a mailbox before authenticating (acking bob's envelope) is UNAUTHENTICATED and deletes nothing", async () => {
    const answer = await aliceClient.request(sendFrame(bob, randomBytes(16)));
    if (answer.type !== 'ok' || !answer.envelopeId) throw new Error('send failed');
    const [pushed] = await bobClient.envelopes(1);
    const mallory = await RelayTestClient.connect(relay.url);
    expect(await mallory.request({ type: 'ack', envelopeIds: [answer.envelopeId] })).toMatchObject({
      code: 'RELAY_ERR_UNAUTHENTICATED',
    });
    expect(await mallory.request({ type: 'keys.fetch', accountId: bob.accountId })).toMatchObject({
      code: 'RELAY_ERR_UNAUTHENTICATED',
    });
    // Still there: bob's own ack deletes it.
    const { client: bobAgain, ready } = await connectAs(relay.url, bob);
    expect(ready.queued).toBe(1);
    await bobAgain.close();
    expect(await bobClient.request({ type: 'ack', envelopeIds: [pushed!.id] })).toMatchObject({
      type: 'ok',
    });
    await mallory.close();
    await honestPairStillWorks();
  });

  it('a signature that does not verify is AUTH_FAILED (4001)', async () => {
    const mallory = await RelayTestClient.connect(relay.url);
    const wrong = alice.identity.privateKey.sign(authMessage(mallory.nonce, alice.accountId, 2));
    mallory.sendAuth(alice, wrong);
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_AUTH_FAILED', 4001);
    await honestPairStillWorks();
  });

  it("a signature replayed from another connection's challenge is AUTH_FAILED", async () => {
    const victim = await RelayTestClient.connect(relay.url);
    const captured = alice.identity.privateKey.sign(
      authMessage(victim.nonce, alice.accountId, alice.deviceId),
    );
    const mallory = await RelayTestClient.connect(relay.url);
    mallory.sendAuth(alice, captured);
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_AUTH_FAILED', 4001);
    // The signature was good for its own connection only.
    victim.sendAuth(alice, captured);
    expect(await victim.next('ready')).toMatchObject({ accountId: alice.accountId });
    await victim.close();
    await honestPairStillWorks();
  });

  it('a key that does not hash to a new account id cannot claim it', async () => {
    const unclaimed = newDevice();
    const impostor = IdentityKeyPair.generate();
    const mallory = await RelayTestClient.connect(relay.url);
    mallory.sendAuth(unclaimed, undefined, impostor);
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_AUTH_FAILED', 4001);
    // The id stays free for its real key.
    const { client: owner } = await connectAs(relay.url, unclaimed);
    await owner.close();
    await honestPairStillWorks();
  });

  it("a valid signature by another key is refused for an account already bound (bob's)", async () => {
    const impostor = IdentityKeyPair.generate();
    expect(accountIdOf(impostor)).not.toBe(bob.accountId);
    const mallory = await RelayTestClient.connect(relay.url);
    mallory.sendAuth(bob, undefined, impostor);
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_AUTH_FAILED', 4001);
    await honestPairStillWorks();
  });

  it("acking someone else's envelope is FORBIDDEN and deletes nothing, not even the acker's own", async () => {
    const mallory = newDevice();
    const { client } = await connectAs(relay.url, mallory);
    const answer = await client.request(sendFrame(bob, randomBytes(16)));
    if (answer.type !== 'ok' || !answer.envelopeId) throw new Error('send failed');
    const own = await aliceClient.request(sendFrame(mallory, randomBytes(16)));
    const [ownEnvelope] = await client.envelopes(1);
    expect(own).toMatchObject({ envelopeId: ownEnvelope!.id });
    expect(
      await client.request({ type: 'ack', envelopeIds: [ownEnvelope!.id, answer.envelopeId] }),
    ).toMatchObject({
      type: 'error',
      code: 'RELAY_ERR_FORBIDDEN',
    });
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    const [stolen] = await bobClient.envelopes(1);
    expect(stolen!.id).toBe(answer.envelopeId);
    expect(await bobClient.request({ type: 'ack', envelopeIds: [stolen!.id] })).toMatchObject({
      type: 'ok',
    });
    await client.close();
    const again = await connectAs(relay.url, mallory);
    expect(again.ready.queued).toBe(1);
    await again.client.close();
    await honestPairStillWorks();
  });

  it("publishing keys for another account is FORBIDDEN and leaves the owner's keys as they were", async () => {
    const keys = publishedKeysFor(bob, 25);
    expect(await bobClient.request({ type: 'keys.publish', keys })).toMatchObject({ type: 'ok' });
    const { client: mallory } = await connectAs(relay.url, newDevice());
    const forged = publishedKeysFor(bob, 25, 100);
    expect(await mallory.request({ type: 'keys.publish', keys: forged })).toMatchObject({
      code: 'RELAY_ERR_FORBIDDEN',
    });
    // Own account id but someone else's identity key is refused as well.
    const carol = newDevice();
    const { client: carolClient } = await connectAs(relay.url, carol);
    const underBobsKey = { ...publishedKeysFor(carol, 1), identityKey: keys.identityKey };
    expect(await carolClient.request({ type: 'keys.publish', keys: underBobsKey })).toMatchObject({
      code: 'RELAY_ERR_FORBIDDEN',
    });
    expect(
      await carolClient.request({ type: 'keys.publish', keys: publishedKeysFor(carol, 1) }),
    ).toMatchObject({ type: 'ok' });
    const fetched = await mallory.request({ type: 'keys.fetch', accountId: bob.accountId });
    expect(fetched).toMatchObject({
      type: 'bundle',
      bundle: { signedPreKey: keys.signedPreKey, preKey: keys.oneTimePreKeys[0] },
    });
    await Promise.all([mallory.close(), carolClient.close()]);
    await honestPairStillWorks();
  });

  it('a flood over 500 frames a second is RATE_LIMITED, then closed after three refusals in a row', async () => {
    const { client: mallory } = await connectAs(relay.url, newDevice());
    for (let id = 1; id <= 1000; id++) mallory.sendJson({ type: 'ping', id });
    const closed = await mallory.closed;
    expect(closed.code).toBe(1008);
    const errors = mallory.history.filter((frame) => frame.type === 'error');
    expect(errors.map((frame) => frame.code)).toEqual([
      'RELAY_ERR_RATE_LIMITED',
      'RELAY_ERR_RATE_LIMITED',
      'RELAY_ERR_RATE_LIMITED',
    ]);
    // hello and auth count too when they fall in the same second as the flood.
    const pongs = mallory.history.filter((frame) => frame.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(498);
    expect(pongs).toBeLessThanOrEqual(500);
    await honestPairStillWorks();
  });

  it('hello or auth again after ready is a protocol violation', async () => {
    const mallory = newDevice();
    const { client } = await connectAs(relay.url, mallory);
    client.sendAuth(bob);
    await expectRefusedAndClosed(client, 'RELAY_ERR_MALFORMED', 1008);
    await honestPairStillWorks();
  });
});
