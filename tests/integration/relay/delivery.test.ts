import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import { RELAY_LIMITS, type WireEnvelope } from '../../../shared/relay/protocol.ts';
import {
  connectAnonymous,
  connectAs,
  registeredDevice,
  relayDataDir,
  relayForFile,
} from '../../support/relay-client.ts';
import { startRelayProcess } from '../../support/relay-process.ts';
import { sendFrame, sendOk, submission } from './fixtures.ts';

const ids = (envelopes: readonly WireEnvelope[]) => envelopes.map((e) => e.id);

describe('relay mailboxes', () => {
  const relay = relayForFile(['--budget', 'destination-messages=100000/1000']);

  it('send.batch stores many envelopes in one request: results in order, per-envelope refusals, idempotent resubmit', async () => {
    const bob = await registeredDevice(relay.url);
    const carol = await registeredDevice(relay.url);
    const sender = await connectAnonymous(relay.url);
    const envelopes = [
      submission(bob.device, bob.token, randomBytes(100)),
      submission(carol.device, carol.token, randomBytes(100)),
      submission(bob.device, bob.token, randomBytes(RELAY_LIMITS.maxEnvelopeBytes + 1)),
      submission(bob.device, carol.token, randomBytes(100)),
      submission(bob.device, bob.token, randomBytes(100)),
    ];
    const answer = await sender.request({ type: 'send.batch', envelopes });
    if (answer.type !== 'sent') throw new Error(`unexpected ${answer.type}`);
    expect(answer.results).toHaveLength(5);
    expect(answer.results[2]).toEqual({ error: 'RELAY_ERR_TOO_LARGE' });
    expect(answer.results[3]).toEqual({ error: 'RELAY_ERR_BAD_TOKEN' });
    const stored = answer.results.flatMap((r) => ('envelopeId' in r ? [r.envelopeId] : []));
    expect(stored).toHaveLength(3);
    expect(ids(await bob.client.envelopes(2))).toEqual([stored[0], stored[2]]);
    expect(ids(await carol.client.envelopes(1))).toEqual([stored[1]]);

    const again = await sender.request({ type: 'send.batch', envelopes });
    expect(again).toEqual({ ...answer, id: again.type === 'sent' ? again.id : -1 });
    for (const client of [sender, bob.client, carol.client]) await client.close();
  });

  it('a sent envelope is pushed as {id, body, serverTime} only, and once acked it is gone for good', async () => {
    const bob = await registeredDevice(relay.url);
    const sender = await connectAnonymous(relay.url);
    const body = randomBytes(300);
    const before = Date.now();
    const envelopeId = await sendOk(sender, bob.device, bob.token, body);
    const [envelope] = await bob.client.envelopes(1);
    expect(envelope).toMatchObject({ id: envelopeId, body: toBase64(body) });
    expect(Object.keys(envelope!).sort()).toEqual(['body', 'id', 'serverTime']);
    expect(envelope!.serverTime).toBeGreaterThanOrEqual(before);
    expect(await bob.client.request({ type: 'ack', envelopeIds: [envelopeId] })).toMatchObject({
      type: 'ok',
    });
    await bob.client.close();
    const { client: again, ready } = await connectAs(relay.url, bob.device);
    expect(ready.queued).toBe(0);
    await Promise.all([again.close(), sender.close()]);
  });

  it('envelopes sent while the recipient is offline are counted in ready and pushed after it', async () => {
    const bob = await registeredDevice(relay.url);
    await bob.client.close();
    const sender = await connectAnonymous(relay.url);
    const sent = [await sendOk(sender, bob.device, bob.token), await sendOk(sender, bob.device, bob.token)];
    const { client: recipient, ready } = await connectAs(relay.url, bob.device);
    expect(ready.queued).toBe(2);
    expect(ids(await recipient.envelopes(2))).toEqual(sent);
    await Promise.all([recipient.close(), sender.close()]);
  });

  it('a resubmit with the same clientMessageId while queued gets the same envelopeId and is delivered once; the record goes with the ack', async () => {
    const bob = await registeredDevice(relay.url);
    const sender = await connectAnonymous(relay.url);
    const clientMessageId = randomUUID();
    const first = await sendOk(sender, bob.device, bob.token, randomBytes(20), clientMessageId);
    expect(await sendOk(sender, bob.device, bob.token, randomBytes(20), clientMessageId)).toBe(first);
    // From another connection too: the key is (mailbox, clientMessageId), not the sender.
    const other = await connectAnonymous(relay.url);
    expect(await sendOk(other, bob.device, bob.token, randomBytes(20), clientMessageId)).toBe(first);
    // A later envelope marks the end: a duplicate push would have come before it.
    const sentinel = await sendOk(sender, bob.device, bob.token);
    expect(ids(await bob.client.envelopes(2))).toEqual([first, sentinel]);
    await bob.client.request({ type: 'ack', envelopeIds: [first] });
    // After the ack nothing of it is left: the same id is a new envelope.
    const late = await sendOk(sender, bob.device, bob.token, randomBytes(20), clientMessageId);
    expect(late).not.toBe(first);
    await bob.client.close();
    const { client: again, ready } = await connectAs(relay.url, bob.device);
    expect(ready.queued).toBe(2);
    expect(ids(await again.envelopes(2))).toEqual([sentinel, late]);
    await Promise.all([again.close(), sender.close(), other.close()]);
  });

  it('after the newest envelope is acked, the next one is still pushed on the same connection (arrival order never reuses a position)', async () => {
    const bob = await registeredDevice(relay.url);
    const sender = await connectAnonymous(relay.url);
    for (let round = 0; round < 3; round++) {
      const envelopeId = await sendOk(sender, bob.device, bob.token);
      expect(ids(await bob.client.envelopes(1))).toEqual([envelopeId]);
      expect(await bob.client.request({ type: 'ack', envelopeIds: [envelopeId] })).toMatchObject({ type: 'ok' });
    }
    await Promise.all([bob.client.close(), sender.close()]);
  });

  it('unacked envelopes are pushed again on the next connection', async () => {
    const bob = await registeredDevice(relay.url);
    const sender = await connectAnonymous(relay.url);
    const envelopeId = await sendOk(sender, bob.device, bob.token);
    expect(ids(await bob.client.envelopes(1))).toEqual([envelopeId]);
    await bob.client.close();
    const { client: again, ready } = await connectAs(relay.url, bob.device);
    expect(ready.queued).toBe(1);
    expect(ids(await again.envelopes(1))).toEqual([envelopeId]);
    await Promise.all([again.close(), sender.close()]);
  });

  it("every connection of a device gets each envelope once, and one connection's ack deletes it for all", async () => {
    const bob = await registeredDevice(relay.url);
    const sender = await connectAnonymous(relay.url);
    const { client: second } = await connectAs(relay.url, bob.device);
    const { client: laptop } = await connectAs(relay.url, { ...bob.device, deviceId: 2 });
    const envelopeId = await sendOk(sender, bob.device, bob.token);
    const sentinel = await sendOk(sender, bob.device, bob.token);
    expect(ids(await bob.client.envelopes(2))).toEqual([envelopeId, sentinel]);
    expect(ids(await second.envelopes(2))).toEqual([envelopeId, sentinel]);
    await bob.client.request({ type: 'ack', envelopeIds: [envelopeId, sentinel] });
    // Device 2 has its own mailbox: nothing was addressed to it.
    expect(laptop.history.some((frame) => frame.type === 'envelopes')).toBe(false);
    await Promise.all([bob.client.close(), second.close(), laptop.close()]);
    const { client: again, ready } = await connectAs(relay.url, bob.device);
    expect(ready.queued).toBe(0);
    await Promise.all([again.close(), sender.close()]);
  });

  it('at most 200 unacked envelopes are pushed to a connection; acks open the window', async () => {
    const bob = await registeredDevice(relay.url);
    await bob.client.close();
    const sender = await connectAnonymous(relay.url);
    const sent: string[] = [];
    for (let start = 0; start < RELAY_LIMITS.pushWindow + 5; start += 100) {
      const count = Math.min(100, RELAY_LIMITS.pushWindow + 5 - start);
      const envelopes = Array.from({ length: count }, () => submission(bob.device, bob.token, randomBytes(8)));
      const answer = await sender.request({ type: 'send.batch', envelopes });
      if (answer.type !== 'sent') throw new Error('batch refused');
      for (const result of answer.results) if ('envelopeId' in result) sent.push(result.envelopeId);
    }
    expect(sent).toHaveLength(205);
    const { client: recipient, ready } = await connectAs(relay.url, bob.device);
    expect(ready.queued).toBe(205);
    expect(ids(await recipient.envelopes(200))).toEqual(sent.slice(0, 200));
    // The initial push round has ended by the time a later request is answered.
    await recipient.request({ type: 'ping' });
    expect(
      recipient.history.filter((frame) => frame.type === 'envelopes').flatMap((frame) => frame.envelopes),
    ).toHaveLength(200);
    await recipient.request({ type: 'ack', envelopeIds: sent.slice(0, 10) });
    expect(ids(await recipient.envelopes(5))).toEqual(sent.slice(200));
    await Promise.all([recipient.close(), sender.close()]);
  });

  it('a 96 KiB body is stored and pushed; a larger one is refused with TOO_LARGE on an open connection', async () => {
    const bob = await registeredDevice(relay.url);
    const sender = await connectAnonymous(relay.url);
    const largest = randomBytes(RELAY_LIMITS.maxEnvelopeBytes);
    const tooLarge = sendFrame(bob.device, bob.token, randomBytes(RELAY_LIMITS.maxEnvelopeBytes + 1));
    expect(await sender.request(tooLarge)).toMatchObject({ type: 'error', code: 'RELAY_ERR_TOO_LARGE' });
    const envelopeId = await sendOk(sender, bob.device, bob.token, largest);
    const [envelope] = await bob.client.envelopes(1);
    expect(envelope?.id).toBe(envelopeId);
    expect(Buffer.from(fromBase64(envelope!.body)).equals(largest)).toBe(true);
    await Promise.all([bob.client.close(), sender.close()]);
  });
});

describe('relay mailbox quota', () => {
  it('a full mailbox refuses new envelopes with MAILBOX_FULL but still recognises resubmits', async () => {
    const relay = await startRelayProcess(relayDataDir(), { args: ['--mailbox-quota', '2'] });
    try {
      const bob = await registeredDevice(relay.url);
      const carol = await registeredDevice(relay.url);
      const sender = await connectAnonymous(relay.url);
      const clientMessageId = randomUUID();
      const first = await sendOk(sender, bob.device, bob.token, randomBytes(10), clientMessageId);
      await sendOk(sender, bob.device, bob.token);
      expect(await sender.request(sendFrame(bob.device, bob.token, randomBytes(10)))).toMatchObject({
        type: 'error',
        code: 'RELAY_ERR_MAILBOX_FULL',
      });
      expect(await sendOk(sender, bob.device, bob.token, randomBytes(10), clientMessageId)).toBe(first);
      // Another mailbox is not affected.
      await sendOk(sender, carol.device, carol.token);
      for (const client of [sender, bob.client, carol.client]) await client.close();
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });
});
