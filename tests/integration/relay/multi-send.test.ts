import { randomUUID } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { connectAnonymous, connectAs, relayForFile } from '../../support/relay-client.ts';
import { accountIdOf } from '../../support/relay-client.ts';
import {
  expectDelivered,
  innerMessage,
  member,
  multiFrame,
  outcomes,
  secondDevice,
  senderFor,
  tokensOf,
} from './multi-fixtures.ts';

// send.multi on a real relay process: one sealed-sender v2 message (real
// libsignal sessions) for several accounts, cut into one copy per device,
// stored in one commit and pushed to each recipient, who opens it.

describe('multi-recipient sends', () => {
  const relay = relayForFile();

  it('one send to three accounts: each stored and pushed once, and each opens the same sealed content', async () => {
    const members = [await member(relay.url), await member(relay.url), await member(relay.url)];
    const sender = await senderFor(members.map((m) => m.target));
    const { body, content } = await sender.seal(
      members.map((m) => m.target),
      innerMessage(),
    );
    const anonymous = await connectAnonymous(relay.url);
    const answer = await anonymous.request(multiFrame(body, tokensOf(members)));
    expect(outcomes(answer)).toEqual(['stored', 'stored', 'stored']);
    if (answer.type !== 'sent.multi') throw new Error('unreachable');
    const sealed = { contents: content.contents(), sender: sender.accountId };
    for (const [i, m] of members.entries()) {
      const id = await expectDelivered(m, sealed);
      expect(answer.results[i]).toEqual({ envelopeIds: [id] });
      // Pushed once: the push and the pong that follows it are in order, and no second copy came.
      await m.client.request({ type: 'ping' });
      const pushed = m.client.history.flatMap((f) => (f.type === 'envelopes' ? f.envelopes : []));
      expect(pushed.map((e) => e.id)).toEqual([id]);
    }
    for (const m of members) await m.client.close();
    for (const m of members) {
      const { client, ready } = await connectAs(relay.url, m.device);
      expect(ready.queued).toBe(1);
      await client.close();
    }
    await anonymous.close();
  });

  it('a recipient with two devices gets one copy in each mailbox; the result lists both envelopes', async () => {
    const alice = await member(relay.url);
    const bob = await member(relay.url);
    const bob2 = await secondDevice(relay.url, bob);
    const sender = await senderFor([alice.target, bob.target, bob2.target]);
    const { body, content } = await sender.seal(
      [alice.target, bob.target, bob2.target],
      innerMessage(),
    );
    const anonymous = await connectAnonymous(relay.url);
    const answer = await anonymous.request(multiFrame(body, tokensOf([alice, bob])));
    expect(outcomes(answer)).toEqual(['stored', 'stored']);
    const sealed = { contents: content.contents(), sender: sender.accountId };
    const ids = [await expectDelivered(bob, sealed), await expectDelivered(bob2, sealed)];
    if (answer.type !== 'sent.multi') throw new Error('unreachable');
    expect(answer.results[1]).toEqual({ envelopeIds: ids });
    await expectDelivered(alice, sealed);
    for (const c of [alice.client, bob.client, bob2.client, anonymous]) await c.close();
  });

  it('a replayed send (same clientMessageId) answers the same envelope ids and stores no second copy', async () => {
    const members = [await member(relay.url), await member(relay.url)];
    const sender = await senderFor(members.map((m) => m.target));
    const { body } = await sender.seal(
      members.map((m) => m.target),
      innerMessage(),
    );
    const frame = multiFrame(body, tokensOf(members), randomUUID());
    const anonymous = await connectAnonymous(relay.url);
    const first = await anonymous.request(frame);
    const again = await (await connectAnonymous(relay.url)).request(frame);
    expect(outcomes(first)).toEqual(['stored', 'stored']);
    if (first.type !== 'sent.multi' || again.type !== 'sent.multi') throw new Error('unreachable');
    expect(again.results).toEqual(first.results);
    for (const m of members) {
      await m.client.close();
      const { client, ready } = await connectAs(relay.url, m.device);
      expect(ready.queued).toBe(1);
      await client.close();
    }
    await anonymous.close();
  });

  it('excluded recipients named in the body are ignored: the listed ones are stored, nobody else', async () => {
    const members = [await member(relay.url), await member(relay.url)];
    const outsider = await member(relay.url);
    const sender = await senderFor(members.map((m) => m.target));
    const { body } = await sender.seal(
      members.map((m) => m.target),
      innerMessage(),
      [outsider.device.accountId, accountIdOf(IdentityKeyPair.generate())],
    );
    const anonymous = await connectAnonymous(relay.url);
    expect(outcomes(await anonymous.request(multiFrame(body, tokensOf(members))))).toEqual([
      'stored',
      'stored',
    ]);
    await outsider.client.close();
    const { client, ready } = await connectAs(relay.url, outsider.device);
    expect(ready.queued).toBe(0);
    for (const c of [client, anonymous, ...members.map((m) => m.client)]) await c.close();
  });

  it('the relay log names no account and no token after multi-recipient sends', async () => {
    const members = [await member(relay.url), await member(relay.url)];
    const sender = await senderFor(members.map((m) => m.target));
    const { body } = await sender.seal(
      members.map((m) => m.target),
      innerMessage(),
    );
    const anonymous = await connectAnonymous(relay.url);
    await anonymous.request(multiFrame(body, tokensOf(members)));
    await anonymous.request({ type: 'ping' });
    const log = relay.output();
    for (const m of members) {
      expect(log).not.toContain(m.device.accountId);
      expect(log).not.toContain(m.token);
    }
    expect(log).not.toContain(sender.accountId);
    for (const c of [anonymous, ...members.map((m) => m.client)]) await c.close();
  });
});
