import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import type { RelayErrorCode } from '../../../shared/relay/protocol.ts';
import {
  accountIdOf,
  connectAnonymous,
  connectAs,
  newDevice,
  RelayTestClient,
  registeredDevice,
  relayForFile,
  type RequestFrame,
  type TestDevice,
} from '../../support/relay-client.ts';
import { sendFrame, submission } from './fixtures.ts';

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
describe('hostile frames and logins are refused while honest clients keep working', () => {
  // Registered first, so its afterAll (which stops the relay) runs last.
  const relay = relayForFile();
  const alice = newDevice();
  let bob: TestDevice;
  let bobToken: string;
  let aliceSender: RelayTestClient;
  let bobClient: RelayTestClient;

  async function honestPairStillWorks(): Promise<void> {
    const body = randomBytes(64);
    const answer = await aliceSender.request(sendFrame(bob, bobToken, body));
    expect(answer).toMatchObject({ type: 'ok' });
    const [envelope] = await bobClient.envelopes(1);
    expect(envelope).toMatchObject({ body: toBase64(body) });
    expect(await bobClient.request({ type: 'ack', envelopeIds: [envelope!.id] })).toMatchObject({
      type: 'ok',
    });
  }

  beforeAll(async () => {
    ({ device: bob, client: bobClient, token: bobToken } = await registeredDevice(relay.url));
    aliceSender = await connectAnonymous(relay.url);
    await honestPairStillWorks();
  });
  afterAll(async () => {
    await Promise.all([aliceSender.close(), bobClient.close()]);
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
    const mallory = await connectAnonymous(relay.url);
    mallory.socket.send(Buffer.from(JSON.stringify({ type: 'ping', id: 1 })), { binary: true });
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_MALFORMED', 1008);
    await honestPairStillWorks();
  });

  it('a frame over 256 KiB closes the connection with 1009 and no error frame, and stores nothing', async () => {
    const mallory = await connectAnonymous(relay.url);
    mallory.sendJson({ ...sendFrame(bob, bobToken, randomBytes(200 * 1024)), id: 1 });
    expect((await mallory.closed).code).toBe(1009);
    expect(mallory.history.filter((frame) => frame.type === 'error')).toEqual([]);
    await honestPairStillWorks();
  });

  it('an unknown frame type is UNKNOWN_TYPE and closes the connection', async () => {
    const mallory = await connectAnonymous(relay.url);
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

  it('a send.batch with one bad envelope (unpadded, empty or an extra member) is MALFORMED: closed, nothing stored', async () => {
    const good = submission(bob, bobToken, randomBytes(16));
    for (const bad of [
      { ...submission(bob, bobToken, randomBytes(4)), body: 'YWJjZA' },
      { ...submission(bob, bobToken, randomBytes(4)), body: '' },
      { ...submission(bob, bobToken, randomBytes(4)), from: alice.accountId },
    ]) {
      const mallory = await connectAnonymous(relay.url);
      mallory.sendJson({ type: 'send.batch', id: 1, envelopes: [good, bad] });
      await expectRefusedAndClosed(mallory, 'RELAY_ERR_MALFORMED', 1008);
    }
    // The good envelope of those batches was not stored: the next push is the honest one.
    await honestPairStillWorks();
  });

  it("an anonymous connection cannot read a mailbox: ack is UNAUTHENTICATED and deletes nothing", async () => {
    const answer = await aliceSender.request(sendFrame(bob, bobToken, randomBytes(16)));
    if (answer.type !== 'ok' || !answer.envelopeId) throw new Error('send failed');
    const [pushed] = await bobClient.envelopes(1);
    const mallory = await connectAnonymous(relay.url);
    const frames: RequestFrame[] = [
      { type: 'ack', envelopeIds: [answer.envelopeId] },
      { type: 'keys.status' },
      { type: 'token.set', token: bobToken },
    ];
    for (const frame of frames) {
      expect(await mallory.request(frame)).toMatchObject({ code: 'RELAY_ERR_UNAUTHENTICATED' });
    }
    const { client: bobAgain, ready } = await connectAs(relay.url, bob);
    expect(ready.queued).toBe(1);
    await bobAgain.close();
    expect(await bobClient.request({ type: 'ack', envelopeIds: [pushed!.id] })).toMatchObject({ type: 'ok' });
    await mallory.close();
    await honestPairStillWorks();
  });

  it('an account connection cannot send or fetch (that would name the sender): UNAUTHENTICATED, nothing stored', async () => {
    const { client: carol } = await connectAs(relay.url, newDevice());
    expect(await carol.request(sendFrame(bob, bobToken, randomBytes(16)))).toMatchObject({
      code: 'RELAY_ERR_UNAUTHENTICATED',
    });
    expect(
      await carol.request({ type: 'send.batch', envelopes: [submission(bob, bobToken, randomBytes(16))] }),
    ).toMatchObject({ code: 'RELAY_ERR_UNAUTHENTICATED' });
    expect(
      await carol.request({ type: 'keys.fetch', accountId: bob.accountId, deviceId: 1, token: bobToken }),
    ).toMatchObject({ code: 'RELAY_ERR_UNAUTHENTICATED' });
    await carol.close();
    await honestPairStillWorks();
  });

  it('a signature that does not verify is AUTH_FAILED (4001)', async () => {
    const mallory = await RelayTestClient.connect(relay.url);
    mallory.sendAuth(alice, mallory.signLogin({ ...alice, deviceId: 2 }));
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_AUTH_FAILED', 4001);
    await honestPairStillWorks();
  });

  it("a signature replayed from another connection's challenge is AUTH_FAILED", async () => {
    const victim = await RelayTestClient.connect(relay.url);
    const captured = victim.signLogin(alice);
    const mallory = await RelayTestClient.connect(relay.url);
    mallory.sendAuth(alice, captured);
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_AUTH_FAILED', 4001);
    // The signature was good for its own connection only.
    victim.sendAuth(alice, captured);
    expect(await victim.next('ready')).toMatchObject({ accountId: alice.accountId });
    await victim.close();
    await honestPairStillWorks();
  });

  it('a signature over the right nonce but another relay id is AUTH_FAILED', async () => {
    const mallory = await RelayTestClient.connect(relay.url);
    mallory.sendAuth(alice, mallory.signLogin(alice, toBase64(randomBytes(16)).slice(0, 22).replace(/[+/]/g, '_')));
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_AUTH_FAILED', 4001);
    await honestPairStillWorks();
  });

  it('a key that does not derive a new account id cannot claim it, and the id stays free', async () => {
    const unclaimed = newDevice();
    const impostor = IdentityKeyPair.generate();
    const mallory = await RelayTestClient.connect(relay.url);
    mallory.sendAuth(unclaimed, undefined, impostor);
    await expectRefusedAndClosed(mallory, 'RELAY_ERR_AUTH_FAILED', 4001);
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
    const mallory = await registeredDevice(relay.url);
    const answer = await aliceSender.request(sendFrame(bob, bobToken, randomBytes(16)));
    if (answer.type !== 'ok' || !answer.envelopeId) throw new Error('send failed');
    const own = await aliceSender.request(sendFrame(mallory.device, mallory.token, randomBytes(16)));
    const [ownEnvelope] = await mallory.client.envelopes(1);
    expect(own).toMatchObject({ envelopeId: ownEnvelope!.id });
    expect(
      await mallory.client.request({ type: 'ack', envelopeIds: [ownEnvelope!.id, answer.envelopeId] }),
    ).toMatchObject({ type: 'error', code: 'RELAY_ERR_FORBIDDEN' });
    expect(await mallory.client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    const [stolen] = await bobClient.envelopes(1);
    expect(stolen!.id).toBe(answer.envelopeId);
    expect(await bobClient.request({ type: 'ack', envelopeIds: [stolen!.id] })).toMatchObject({ type: 'ok' });
    await mallory.client.close();
    const again = await connectAs(relay.url, mallory.device);
    expect(again.ready.queued).toBe(1);
    await again.client.close();
    await honestPairStillWorks();
  });

  it('a flood over 500 frames a second is RATE_LIMITED with retryAfterMs, then closed after three refusals in a row', async () => {
    const mallory = await connectAnonymous(relay.url);
    for (let id = 1; id <= 1000; id++) mallory.sendJson({ type: 'ping', id });
    expect((await mallory.closed).code).toBe(1008);
    const errors = mallory.history.filter((frame) => frame.type === 'error');
    expect(errors.map((frame) => frame.code)).toEqual([
      'RELAY_ERR_RATE_LIMITED',
      'RELAY_ERR_RATE_LIMITED',
      'RELAY_ERR_RATE_LIMITED',
    ]);
    for (const error of errors) expect(error.retryAfterMs).toBeGreaterThan(0);
    // hello counts too when it falls in the same second as the flood.
    const pongs = mallory.history.filter((frame) => frame.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(498);
    expect(pongs).toBeLessThanOrEqual(500);
    await honestPairStillWorks();
  });

  it('hello or auth again after ready is a protocol violation', async () => {
    const { client } = await connectAs(relay.url, newDevice());
    client.sendAuth(bob);
    await expectRefusedAndClosed(client, 'RELAY_ERR_MALFORMED', 1008);
    await honestPairStillWorks();
  });
});
