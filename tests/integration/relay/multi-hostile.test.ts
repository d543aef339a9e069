import { randomBytes } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import {
  accountIdOf,
  connectAnonymous,
  connectAs,
  newDevice,
  newToken,
  relayDataDir,
  relayForFile,
  type RelayTestClient,
} from '../../support/relay-client.ts';
import { startRelayProcess } from '../../support/relay-process.ts';
import { moveNotice } from './fixtures.ts';
import {
  expectWholeSendRefused,
  group,
  innerMessage,
  type Member,
  member,
  multiFrame,
  outcomes,
  queued,
  senderFor,
  targetOf,
  tokensOf,
} from './multi-fixtures.ts';

// send.multi from strangers and from contacts who turned hostile: whatever
// the frame or body, a refusal has a stable code, nothing of a refused send
// is stored, and the others' copies are untouched.

async function expectMalformedAndClosed(client: RelayTestClient): Promise<void> {
  expect(await client.next('error')).toMatchObject({ code: 'RELAY_ERR_MALFORMED' });
  expect((await client.closed).code).toBe(1008);
}

describe('send.multi refusals', () => {
  const relay = relayForFile();

  it('a body that is not a sealed-sender v2 message is MALFORMED, closes the connection and stores nothing', async () => {
    const members = [await member(relay.url), await member(relay.url)];
    for (const body of [randomBytes(300), Uint8Array.of(0x23, 0x02), Uint8Array.of(0x11, 1, 2)]) {
      const mallory = await connectAnonymous(relay.url);
      mallory.sendJson({ ...multiFrame(body, tokensOf(members)), id: 1 });
      await expectMalformedAndClosed(mallory);
    }
    for (const m of members) expect(await queued(relay.url, m)).toBe(0);
  });

  it('a truncated real body is MALFORMED and stores nothing', async () => {
    const { members, body } = await group(relay.url);
    const mallory = await connectAnonymous(relay.url);
    mallory.sendJson({ ...multiFrame(body.subarray(0, 60), tokensOf(members)), id: 1 });
    await expectMalformedAndClosed(mallory);
    for (const m of members) expect(await queued(relay.url, m)).toBe(0);
  });

  it('a frame whose recipients are not exactly the body’s (extra, missing, listed twice) is MALFORMED and stores nothing', async () => {
    const { members, body } = await group(relay.url);
    const extra = await member(relay.url);
    const frames = [
      multiFrame(body, tokensOf([...members, extra])),
      multiFrame(body, tokensOf(members.slice(0, 2))),
      multiFrame(body, tokensOf([...members, members[0]!])),
      multiFrame(body, tokensOf([members[0]!, members[1]!, extra])),
    ];
    for (const frame of frames) {
      const mallory = await connectAnonymous(relay.url);
      mallory.sendJson({ ...frame, id: 1 });
      await expectMalformedAndClosed(mallory);
    }
    for (const m of [...members, extra]) expect(await queued(relay.url, m)).toBe(0);
  });

  it('a body naming a member as a PNI, not as its account (ACI), does not match the frame: MALFORMED, nothing stored', async () => {
    const alice = await member(relay.url);
    const bob = await member(relay.url);
    // The same UUID as a phone-number identity: libsignal seals to it, the relay must not take it for Bob.
    const bobAsPni = { ...bob.target, accountId: `PNI:${bob.device.accountId}` as AccountId };
    const sender = await senderFor([alice.target, bobAsPni]);
    const { body } = await sender.seal([alice.target, bobAsPni], innerMessage());
    const mallory = await connectAnonymous(relay.url);
    mallory.sendJson({ ...multiFrame(body, tokensOf([alice, bob])), id: 1 });
    await expectMalformedAndClosed(mallory);
    expect(await queued(relay.url, alice)).toBe(0);
    expect(await queued(relay.url, bob)).toBe(0);
  });

  it('a wrong token for one recipient refuses that one with BAD_TOKEN; the others are stored', async () => {
    const { members, body } = await group(relay.url);
    const recipients = tokensOf(members);
    recipients[1] = { accountId: recipients[1]!.accountId, token: members[0]!.token };
    const anonymous = await connectAnonymous(relay.url);
    expect(outcomes(await anonymous.request(multiFrame(body, recipients)))).toEqual([
      'stored',
      'RELAY_ERR_BAD_TOKEN',
      'stored',
    ]);
    expect(await Promise.all(members.map((m) => queued(relay.url, m)))).toEqual([1, 0, 1]);
    await anonymous.close();
  });

  it('an account the relay never saw, and one on another relay, answer BAD_TOKEN exactly like a wrong token', async () => {
    const other = await startRelayProcess(relayDataDir());
    try {
      const here = await member(relay.url);
      const elsewhere = await member(other.url);
      const stranger = newDevice();
      const targets = [here.target, elsewhere.target, targetOf(stranger)];
      const sender = await senderFor(targets);
      const { body } = await sender.seal(targets, innerMessage());
      const anonymous = await connectAnonymous(relay.url);
      const recipients = [
        ...tokensOf([here, elsewhere]),
        { accountId: stranger.accountId, token: newToken() },
      ];
      expect(outcomes(await anonymous.request(multiFrame(body, recipients)))).toEqual([
        'stored',
        'RELAY_ERR_BAD_TOKEN',
        'RELAY_ERR_BAD_TOKEN',
      ]);
      expect(await queued(other.url, elsewhere)).toBe(0);
      expect(await queued(relay.url, here)).toBe(1);
      await anonymous.close();
    } finally {
      expect(await other.stop()).toBe(0);
    }
  });

  it('a device the account never published, or a stale registration id, answers BAD_TOKEN for that recipient', async () => {
    const alice = await member(relay.url);
    const bob = await member(relay.url);
    const carol = await member(relay.url);
    const bobPhantom = targetOf({ ...bob.device, deviceId: 7 });
    const carolStale = targetOf(carol.device, 4321);
    const targets = [alice.target, bob.target, bobPhantom, carolStale];
    const sender = await senderFor(targets);
    const { body } = await sender.seal(targets, innerMessage());
    const anonymous = await connectAnonymous(relay.url);
    expect(
      outcomes(await anonymous.request(multiFrame(body, tokensOf([alice, bob, carol])))),
    ).toEqual(['stored', 'RELAY_ERR_BAD_TOKEN', 'RELAY_ERR_BAD_TOKEN']);
    expect(await Promise.all([alice, bob, carol].map((m) => queued(relay.url, m)))).toEqual([
      1, 0, 0,
    ]);
    await anonymous.close();
  });

  it('more recipients than the limit is MALFORMED before any check', async () => {
    const { members, body } = await group(relay.url);
    const crowd = Array.from({ length: RELAY_LIMITS.maxMultiRecipients + 1 }, (_, i) =>
      i < members.length
        ? tokensOf(members)[i]!
        : { accountId: accountIdOf(IdentityKeyPair.generate()), token: newToken() },
    );
    const mallory = await connectAnonymous(relay.url);
    mallory.sendJson({ ...multiFrame(body, crowd), id: 1 });
    await expectMalformedAndClosed(mallory);
    for (const m of members) expect(await queued(relay.url, m)).toBe(0);
  });

  it('a frame over 256 KiB closes with 1009 and stores nothing', async () => {
    const { members, body } = await group(relay.url);
    const padded = new Uint8Array(RELAY_LIMITS.maxFrameBytes);
    padded.set(body);
    const mallory = await connectAnonymous(relay.url);
    mallory.sendJson({ ...multiFrame(padded, tokensOf(members)), id: 1 });
    expect((await mallory.closed).code).toBe(1009);
    for (const m of members) expect(await queued(relay.url, m)).toBe(0);
  });

  it('a copy larger than an envelope may be is TOO_LARGE for the whole send, nothing stored', async () => {
    const members = [await member(relay.url), await member(relay.url)];
    const sender = await senderFor(members.map((m) => m.target));
    const { body } = await sender.seal(
      members.map((m) => m.target),
      innerMessage(RELAY_LIMITS.maxEnvelopeBytes),
    );
    await expectWholeSendRefused(relay.url, members, body, 'RELAY_ERR_TOO_LARGE');
  });

  it('send.multi on an account connection is refused (it would name its sender), the connection stays open', async () => {
    const { members, body } = await group(relay.url);
    const { client } = await connectAs(relay.url, members[0]!.device);
    expect(await client.request(multiFrame(body, tokensOf(members)))).toMatchObject({
      type: 'error',
      code: 'RELAY_ERR_UNAUTHENTICATED',
    });
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await client.close();
    for (const m of members) expect(await queued(relay.url, m)).toBe(0);
  });

  it('a moved account: its old token answers ACCOUNT_MOVED, any other token BAD_TOKEN; the others are stored', async () => {
    const { members, body } = await group(relay.url);
    const [alice, bob, carol] = members as [Member, Member, Member];
    const successor = await member(relay.url);
    expect(
      await successor.client.request({
        type: 'account.move',
        notice: moveNotice(bob.device, successor.device),
      }),
    ).toMatchObject({ type: 'ok' });
    const anonymous = await connectAnonymous(relay.url);
    const withOldToken = multiFrame(body, tokensOf(members));
    // The same send again (same clientMessageId): Alice and Carol keep one copy each.
    expect(outcomes(await anonymous.request(withOldToken))).toEqual([
      'stored',
      'RELAY_ERR_ACCOUNT_MOVED',
      'stored',
    ]);
    const stranger = tokensOf(members);
    stranger[1] = { accountId: bob.device.accountId, token: newToken() };
    expect(
      outcomes(await anonymous.request(multiFrame(body, stranger, withOldToken.clientMessageId))),
    ).toEqual(['stored', 'RELAY_ERR_BAD_TOKEN', 'stored']);
    expect(await queued(relay.url, alice)).toBe(1);
    expect(await queued(relay.url, carol)).toBe(1);
    await Promise.all([anonymous.close(), successor.client.close()]);
  });

  it('a replay of a captured frame with one recipient swapped for a stranger is MALFORMED (the body binds the set)', async () => {
    const { members, body } = await group(relay.url);
    const anonymous = await connectAnonymous(relay.url);
    expect(outcomes(await anonymous.request(multiFrame(body, tokensOf(members))))).toEqual([
      'stored',
      'stored',
      'stored',
    ]);
    const mallory = await connectAnonymous(relay.url);
    const swapped = tokensOf(members);
    swapped[2] = { accountId: newDevice().accountId, token: newToken() };
    mallory.sendJson({ ...multiFrame(body, swapped), id: 1 });
    await expectMalformedAndClosed(mallory);
    expect(await Promise.all(members.map((m) => queued(relay.url, m)))).toEqual([1, 1, 1]);
    await anonymous.close();
  });
});
