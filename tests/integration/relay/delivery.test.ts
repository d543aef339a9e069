import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import { RELAY_LIMITS, type WireEnvelope } from '../../../shared/relay/protocol.ts';
import {
  connectAs,
  newDevice,
  type RelayTestClient,
  relayDataDir,
  relayForFile,
  type TestDevice,
} from '../../support/relay-client.ts';
import { startRelayProcess } from '../../support/relay-process.ts';
import { sendFrame } from './fixtures.ts';

/** Sends `body` and returns the envelope id the relay assigned. */
async function send(
  client: RelayTestClient,
  to: TestDevice,
  body: Uint8Array,
  clientMessageId?: string,
): Promise<string> {
  const answer = await client.request(sendFrame(to, body, clientMessageId));
  if (answer.type !== 'ok' || answer.envelopeId === undefined)
    throw new Error(`send refused: ${JSON.stringify(answer)}`);
  return answer.envelopeId;
}

const ids = (envelopes: readonly WireEnvelope[]) => envelopes.map((e) => e.id);

describe('relay mailboxes', () => {
  const relay = relayForFile();

  it('send.batch stores many envelopes in one request: results in order, per-envelope refusals, idempotent resubmit', async () => {
    const [alice, bob, carol] = [newDevice(), newDevice(), newDevice()];
    const { client: sender } = await connectAs(relay.url, alice);
    const { client: atBob } = await connectAs(relay.url, bob);
    const { client: atCarol } = await connectAs(relay.url, carol);
    const envelopes = [
      { ...sendFrame(bob, randomBytes(100)) },
      { ...sendFrame(carol, randomBytes(100)) },
      { ...sendFrame(bob, randomBytes(RELAY_LIMITS.maxEnvelopeBytes + 1)) },
      { ...sendFrame(bob, randomBytes(100)) },
    ].map(({ type: _type, ...envelope }) => envelope);
    const answer = await sender.request({ type: 'send.batch', envelopes });
    if (answer.type !== 'sent') throw new Error(`unexpected ${answer.type}`);
    expect(answer.results).toHaveLength(4);
    expect(answer.results[2]).toEqual({ error: 'RELAY_ERR_TOO_LARGE' });
    const stored = answer.results.flatMap((r) => ('envelopeId' in r ? [r.envelopeId] : []));
    expect(stored).toHaveLength(3);
    expect(ids(await atBob.envelopes(2))).toEqual([stored[0], stored[2]]);
    expect(ids(await atCarol.envelopes(1))).toEqual([stored[1]]);

    const again = await sender.request({ type: 'send.batch', envelopes });
    expect(again).toEqual({ ...answer, id: again.type === 'sent' ? again.id : -1 });
    for (const client of [sender, atBob, atCarol]) await client.close();
  });

  it('a sent envelope is pushed to the connected recipient, and once acked it is gone for good', async () => {
    const [alice, bob] = [newDevice(), newDevice()];
    const { client: sender } = await connectAs(relay.url, alice);
    const { client: recipient } = await connectAs(relay.url, bob);
    const body = randomBytes(300);
    const envelopeId = await send(sender, bob, body);
    const [envelope] = await recipient.envelopes(1);
    expect(envelope).toMatchObject({
      id: envelopeId,
      from: alice.accountId,
      fromDevice: 1,
      ctype: 2,
      body: toBase64(body),
    });
    expect(Object.keys(envelope!).sort()).toEqual([
      'body',
      'ctype',
      'from',
      'fromDevice',
      'id',
      'receivedAt',
    ]);
    expect(await recipient.request({ type: 'ack', envelopeIds: [envelopeId] })).toEqual({
      type: 'ok',
      id: 1,
    });
    await recipient.close();
    const { client: again, ready } = await connectAs(relay.url, bob);
    expect(ready.queued).toBe(0);
    await Promise.all([again.close(), sender.close()]);
  });

  it('envelopes sent while the recipient is offline are counted in ready and pushed after it', async () => {
    const [alice, bob] = [newDevice(), newDevice()];
    const { client: sender } = await connectAs(relay.url, alice);
    const sent = [
      await send(sender, bob, randomBytes(10)),
      await send(sender, bob, randomBytes(10)),
    ];
    const { client: recipient, ready } = await connectAs(relay.url, bob);
    expect(ready.queued).toBe(2);
    expect(ids(await recipient.envelopes(2))).toEqual(sent);
    await Promise.all([recipient.close(), sender.close()]);
  });

  it('a resubmit with the same clientMessageId gets the same envelopeId and is delivered once', async () => {
    const [alice, bob] = [newDevice(), newDevice()];
    const { client: sender } = await connectAs(relay.url, alice);
    const { client: recipient } = await connectAs(relay.url, bob);
    const clientMessageId = randomUUID();
    const first = await send(sender, bob, randomBytes(20), clientMessageId);
    expect(await send(sender, bob, randomBytes(20), clientMessageId)).toBe(first);
    // A later envelope marks the end: a duplicate push would have come before it.
    const sentinel = await send(sender, bob, randomBytes(20));
    const pushed = await recipient.envelopes(2);
    expect(ids(pushed)).toEqual([first, sentinel]);
    await recipient.request({ type: 'ack', envelopeIds: [first] });
    // Even after the ack, a late resubmit does not create a second envelope.
    expect(await send(sender, bob, randomBytes(20), clientMessageId)).toBe(first);
    await recipient.close();
    const { client: again, ready } = await connectAs(relay.url, bob);
    expect(ready.queued).toBe(1);
    expect(ids(await again.envelopes(1))).toEqual([sentinel]);
    await Promise.all([again.close(), sender.close()]);
  });

  it('unacked envelopes are pushed again on the next connection', async () => {
    const [alice, bob] = [newDevice(), newDevice()];
    const { client: sender } = await connectAs(relay.url, alice);
    const { client: recipient } = await connectAs(relay.url, bob);
    const envelopeId = await send(sender, bob, randomBytes(40));
    expect(ids(await recipient.envelopes(1))).toEqual([envelopeId]);
    await recipient.close();
    const { client: again, ready } = await connectAs(relay.url, bob);
    expect(ready.queued).toBe(1);
    expect(ids(await again.envelopes(1))).toEqual([envelopeId]);
    await Promise.all([again.close(), sender.close()]);
  });

  it('a mailbox is pushed sender by sender, most recent sender first, arrival order within a sender', async () => {
    const [alice, carol, bob] = [newDevice(), newDevice(), newDevice()];
    const { client: a } = await connectAs(relay.url, alice);
    const { client: c } = await connectAs(relay.url, carol);
    const a1 = await send(a, bob, randomBytes(10));
    const c1 = await send(c, bob, randomBytes(10));
    const a2 = await send(a, bob, randomBytes(10));
    const { client: recipient } = await connectAs(relay.url, bob);
    expect(ids(await recipient.envelopes(3))).toEqual([a1, a2, c1]);
    await Promise.all([recipient.close(), a.close(), c.close()]);
  });

  it("every connection of a device gets each envelope once, and one connection's ack deletes it for all", async () => {
    const [alice, bob] = [newDevice(), newDevice()];
    const { client: sender } = await connectAs(relay.url, alice);
    const { client: first } = await connectAs(relay.url, bob);
    const { client: second } = await connectAs(relay.url, bob);
    const { client: laptop } = await connectAs(relay.url, { ...bob, deviceId: 2 });
    const envelopeId = await send(sender, bob, randomBytes(10));
    const sentinel = await send(sender, bob, randomBytes(10));
    expect(ids(await first.envelopes(2))).toEqual([envelopeId, sentinel]);
    expect(ids(await second.envelopes(2))).toEqual([envelopeId, sentinel]);
    await first.request({ type: 'ack', envelopeIds: [envelopeId, sentinel] });
    // Device 2 has its own mailbox: nothing was addressed to it.
    expect(laptop.history.some((frame) => frame.type === 'envelopes')).toBe(false);
    await Promise.all([first.close(), second.close(), laptop.close()]);
    const { client: again, ready } = await connectAs(relay.url, bob);
    expect(ready.queued).toBe(0);
    await Promise.all([again.close(), sender.close()]);
  });

  it('at most 200 unacked envelopes are pushed to a connection; acks open the window', async () => {
    const [alice, bob] = [newDevice(), newDevice()];
    const { client: sender } = await connectAs(relay.url, alice);
    const sent: string[] = [];
    for (let i = 0; i < RELAY_LIMITS.pushWindow + 5; i++)
      sent.push(await send(sender, bob, randomBytes(8)));
    const { client: recipient, ready } = await connectAs(relay.url, bob);
    expect(ready.queued).toBe(205);
    const firstRound = await recipient.envelopes(200);
    expect(ids(firstRound)).toEqual(sent.slice(0, 200));
    // The initial push round has ended by the time a later request is answered.
    await recipient.request({ type: 'ping' });
    expect(
      recipient.history
        .filter((frame) => frame.type === 'envelopes')
        .flatMap((frame) => frame.envelopes),
    ).toHaveLength(200);
    await recipient.request({ type: 'ack', envelopeIds: sent.slice(0, 10) });
    expect(ids(await recipient.envelopes(5))).toEqual(sent.slice(200));
    await Promise.all([recipient.close(), sender.close()]);
  });

  it('a 160 KiB body is stored and pushed; a larger one is refused with TOO_LARGE on an open connection', async () => {
    const [alice, bob] = [newDevice(), newDevice()];
    const { client: sender } = await connectAs(relay.url, alice);
    const { client: recipient } = await connectAs(relay.url, bob);
    const largest = randomBytes(RELAY_LIMITS.maxEnvelopeBytes);
    const tooLarge = sendFrame(bob, randomBytes(RELAY_LIMITS.maxEnvelopeBytes + 1));
    expect(await sender.request(tooLarge)).toMatchObject({
      type: 'error',
      code: 'RELAY_ERR_TOO_LARGE',
    });
    const envelopeId = await send(sender, bob, largest);
    const [envelope] = await recipient.envelopes(1);
    expect(envelope?.id).toBe(envelopeId);
    expect(Buffer.from(fromBase64(envelope!.body)).equals(largest)).toBe(true);
    await Promise.all([recipient.close(), sender.close()]);
  });
});

describe('relay mailbox quota', () => {
  it('a full mailbox refuses new envelopes with MAILBOX_FULL but still recognises resubmits', async () => {
    const relay = await startRelayProcess(relayDataDir(), { args: ['--mailbox-quota', '2'] });
    try {
      const [alice, bob] = [newDevice(), newDevice()];
      const { client: sender } = await connectAs(relay.url, alice);
      const clientMessageId = randomUUID();
      const first = await send(sender, bob, randomBytes(10), clientMessageId);
      await send(sender, bob, randomBytes(10));
      expect(await sender.request(sendFrame(bob, randomBytes(10)))).toMatchObject({
        type: 'error',
        code: 'RELAY_ERR_MAILBOX_FULL',
      });
      expect(await send(sender, bob, randomBytes(10), clientMessageId)).toBe(first);
      // Another mailbox is not affected.
      await send(sender, newDevice(), randomBytes(10));
      await sender.close();
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });
});
