import { randomBytes } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { afterEach, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import { WebSocketRelay } from '../../../electron/core/sync/ws-relay.ts';
import type { MultiTarget } from '../../support/multi-sealing.ts';
import { accountIdOf, relayDataDir } from '../../support/relay-client.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import {
  expectDelivered,
  innerMessage,
  type Member,
  member,
  queued,
  senderFor,
} from '../relay/multi-fixtures.ts';

// The WebSocket client's sendMulti against a real relay process: per-recipient
// results, and a send larger than one frame split into frames the relay
// accepts, each recipient getting the copy it would have got from the whole.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function relayWith(args: readonly string[] = []): Promise<RelayProcess> {
  const relay = await startRelayProcess(relayDataDir(), { args });
  cleanups.push(async () => expect(await relay.stop()).toBe(0));
  return relay;
}

function clientOf(relay: RelayProcess): WebSocketRelay {
  const client = new WebSocketRelay(relay.url.replace(/\/v2$/, ''), {
    expected: () => relay.relayId,
  });
  cleanups.push(() => client.close());
  return client;
}

const tokenOf = (m: Member) => new Uint8Array(fromBase64(m.token));

/** Accounts this relay never saw, as targets with sessions (their tokens are random). */
function strangers(count: number): MultiTarget[] {
  return Array.from({ length: count }, () => {
    const identity = IdentityKeyPair.generate();
    return { identity, accountId: accountIdOf(identity), deviceId: 1, registrationId: 1234 };
  });
}

describe('WebSocketRelay.sendMulti', () => {
  it('answers per recipient: stored ones undefined, a wrong token its code; the stored ones open it', async () => {
    const relay = await relayWith();
    const members = [await member(relay.url), await member(relay.url), await member(relay.url)];
    const sender = await senderFor(members.map((m) => m.target));
    const { body, content } = await sender.seal(
      members.map((m) => m.target),
      innerMessage(),
    );
    const results = await clientOf(relay).sendMulti({
      clientMessageId: crypto.randomUUID(),
      body,
      recipients: members.map((m, i) => ({
        accountId: m.device.accountId,
        token: i === 1 ? new Uint8Array(randomBytes(16)) : tokenOf(m),
      })),
    });
    expect([...results.entries()]).toEqual([
      [members[0]!.device.accountId, undefined],
      [members[1]!.device.accountId, 'RELAY_ERR_BAD_TOKEN'],
      [members[2]!.device.accountId, undefined],
    ]);
    const sealed = { contents: content.contents(), sender: sender.accountId };
    await expectDelivered(members[0]!, sealed);
    await expectDelivered(members[2]!, sealed);
    expect(await queued(relay.url, members[1]!)).toBe(0);
    for (const m of members) await m.client.close();
  });

  it('no recipients: nothing is sent (the relay is not even reached) and the result is empty', async () => {
    const client = new WebSocketRelay('ws://127.0.0.1:9', { expected: () => undefined });
    cleanups.push(() => client.close());
    const results = await client.sendMulti({
      clientMessageId: crypto.randomUUID(),
      body: new Uint8Array(randomBytes(100)),
      recipients: [],
    });
    expect(results.size).toBe(0);
  });

  it('a body the relay cannot parse rejects with RELAY_REFUSED (MALFORMED), stores nothing, and the client reconnects for the next send', async () => {
    const relay = await relayWith();
    const members = [await member(relay.url), await member(relay.url)];
    const client = clientOf(relay);
    const recipients = members.map((m) => ({ accountId: m.device.accountId, token: tokenOf(m) }));
    await expect(
      client.sendMulti({
        clientMessageId: crypto.randomUUID(),
        body: new Uint8Array(randomBytes(400)),
        recipients,
      }),
    ).rejects.toMatchObject({ code: 'RELAY_REFUSED', detail: 'RELAY_ERR_MALFORMED' });
    const sender = await senderFor(members.map((m) => m.target));
    const { body } = await sender.seal(
      members.map((m) => m.target),
      innerMessage(),
    );
    const results = await client.sendMulti({
      clientMessageId: crypto.randomUUID(),
      body,
      recipients,
    });
    expect([...results.values()]).toEqual([undefined, undefined]);
    for (const m of members) expect(await queued(relay.url, m)).toBe(1);
  });

  it('a send to more recipients than one frame may list goes out in frames the relay accepts; each member opens its copy', async () => {
    // Refusals of the strangers would otherwise pause the connection between frames.
    const relay = await relayWith(['--budget', 'connection-refusals=100000/1000']);
    const members = [await member(relay.url), await member(relay.url), await member(relay.url)];
    const crowd = strangers(RELAY_LIMITS.maxMultiRecipients - 2);
    // Members first, in the middle and last: the last one lands in the second frame.
    const targets = [members[0]!.target, ...crowd, members[1]!.target, members[2]!.target];
    const sender = await senderFor(targets);
    const { body, content } = await sender.seal(targets, innerMessage());
    const known = new Map(members.map((m) => [m.device.accountId, tokenOf(m)]));
    const results = await clientOf(relay).sendMulti({
      clientMessageId: crypto.randomUUID(),
      body,
      recipients: targets.map((t) => ({
        accountId: t.accountId,
        token: known.get(t.accountId) ?? new Uint8Array(randomBytes(16)),
      })),
    });
    expect(results.size).toBe(targets.length);
    for (const m of members) expect(results.get(m.device.accountId)).toBeUndefined();
    expect(new Set(crowd.map((t) => results.get(t.accountId)))).toEqual(
      new Set(['RELAY_ERR_BAD_TOKEN']),
    );
    const sealed = { contents: content.contents(), sender: sender.accountId };
    for (const m of members) await expectDelivered(m, sealed);
    for (const m of members) await m.client.close();
  });

  it('rejects when the first frame is refused (nothing stored); a later frame’s refusal is that frame’s recipients’ result', async () => {
    const relay = await relayWith([
      '--budget',
      `connection-sends=${RELAY_LIMITS.maxMultiRecipients}/0.001`,
      '--budget',
      'connection-refusals=100000/1000',
    ]);
    const members = [await member(relay.url), await member(relay.url)];
    const crowd = strangers(RELAY_LIMITS.maxMultiRecipients - 1);
    const targets = [members[0]!.target, ...crowd, members[1]!.target];
    const sender = await senderFor(targets);
    const { body } = await sender.seal(targets, innerMessage());
    const known = new Map(members.map((m) => [m.device.accountId, tokenOf(m)]));
    const submission = {
      clientMessageId: crypto.randomUUID(),
      body,
      recipients: targets.map((t) => ({
        accountId: t.accountId,
        token: known.get(t.accountId) ?? new Uint8Array(randomBytes(16)),
      })),
    };
    const client = clientOf(relay);
    const results = await client.sendMulti(submission);
    expect(results.get(members[0]!.device.accountId)).toBeUndefined();
    expect(results.get(members[1]!.device.accountId)).toBe('RELAY_ERR_OVER_BUDGET');
    // The connection's budget is spent: now the first frame is refused and the send rejects.
    await expect(client.sendMulti(submission)).rejects.toMatchObject({
      code: 'RELAY_UNAVAILABLE',
      detail: 'RELAY_ERR_OVER_BUDGET',
    });
    expect(await queued(relay.url, members[0]!)).toBe(1);
    expect(await queued(relay.url, members[1]!)).toBe(0);
  });
});
