import { randomBytes, randomUUID } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { expect } from 'vitest';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import type { RelayErrorCode, ServerFrame } from '../../../shared/relay/protocol.ts';
import { MultiSender, type MultiTarget, openCopy } from '../../support/multi-sealing.ts';
import {
  accountIdOf,
  connectAnonymous,
  connectAs,
  newDevice,
  registeredDevice,
  type RelayTestClient,
  type RequestFrame,
  type TestDevice,
} from '../../support/relay-client.ts';
import { publishedKeysFor } from './fixtures.ts';

// Group members and send.multi frames for the relay's multi-recipient tests.
// Not a test file (vitest runs *.test.ts only).

/** The registration id publishedKeysFor publishes. */
export const PUBLISHED_REGISTRATION_ID = 1234;

/** A recipient account on a relay: logged in, token registered, keys published. */
export interface Member {
  readonly device: TestDevice;
  readonly client: RelayTestClient;
  readonly token: string;
  readonly target: MultiTarget;
}

/** Registers a device, publishes its keys (so the relay knows the device) and returns it as a target. */
export async function member(url: string, device: TestDevice = newDevice()): Promise<Member> {
  const { client, token } = await registeredDevice(url, device);
  const published = await client.request({
    type: 'keys.publish',
    keys: publishedKeysFor(device, 0),
  });
  if (published.type !== 'ok') throw new Error(`publish refused: ${JSON.stringify(published)}`);
  return { device, client, token, target: targetOf(device) };
}

/** A device as a sender's session target, with the registration id its keys name. */
export function targetOf(
  device: TestDevice,
  registrationId = PUBLISHED_REGISTRATION_ID,
): MultiTarget {
  return { ...device, registrationId };
}

/** A second device of a member's account, logged in with the same identity and with its own keys published. */
export async function secondDevice(url: string, first: Member): Promise<Member> {
  const device: TestDevice = { ...first.device, deviceId: 2 };
  const { client } = await connectAs(url, device);
  const published = await client.request({
    type: 'keys.publish',
    keys: publishedKeysFor(device, 0),
  });
  if (published.type !== 'ok') throw new Error('publish refused');
  return { device, client, token: first.token, target: targetOf(device) };
}

/** A sender with sessions to every target. */
export async function senderFor(targets: readonly MultiTarget[]): Promise<MultiSender> {
  const identity = IdentityKeyPair.generate();
  const sender = new MultiSender(identity, accountIdOf(identity));
  for (const target of targets) await sender.meet(target);
  return sender;
}

/** A send.multi frame (without id). */
export function multiFrame(
  body: Uint8Array,
  recipients: readonly { readonly accountId: AccountId; readonly token: string }[],
  clientMessageId: string = randomUUID(),
): Extract<RequestFrame, { type: 'send.multi' }> {
  return {
    type: 'send.multi',
    clientMessageId,
    body: toBase64(body),
    recipients: recipients.map((r) => ({ accountId: r.accountId, token: r.token })),
  };
}

/** The frame's recipients for members, each with its own token. */
export function tokensOf(
  members: readonly Member[],
): { readonly accountId: AccountId; readonly token: string }[] {
  return members.map((m) => ({ accountId: m.device.accountId, token: m.token }));
}

/** The per-recipient results of a sent.multi answer, as codes ('stored' or the refusal). */
export function outcomes(answer: ServerFrame): string[] {
  if (answer.type !== 'sent.multi')
    throw new Error(`expected sent.multi, got ${JSON.stringify(answer)}`);
  return answer.results.map((r) => ('error' in r ? r.error : 'stored'));
}

/** Waits for one pushed envelope and checks it opens, for this member, to the content that was sealed. */
export async function expectDelivered(
  m: Member,
  sealed: { readonly contents: Uint8Array; readonly sender: string },
): Promise<string> {
  const [envelope] = await m.client.envelopes(1);
  const usmc = await openCopy(m.device.identity, fromBase64(envelope!.body));
  expect(Buffer.from(usmc.contents()).equals(Buffer.from(sealed.contents))).toBe(true);
  expect(usmc.senderCertificate().senderUuid()).toBe(sealed.sender);
  return envelope!.id;
}

/** Random bytes standing in for an inner Signal message. */
export function innerMessage(bytes = 120): Uint8Array<ArrayBuffer> {
  return new Uint8Array(randomBytes(bytes));
}

/** Envelopes waiting in a member's mailbox, from a fresh login (the member's own connection is closed first). */
export async function queued(url: string, m: Member): Promise<number> {
  await m.client.close();
  const { client, ready } = await connectAs(url, m.device);
  await client.close();
  return ready.queued ?? -1;
}

/** Three members and a real SSv2 body for them. */
export async function group(url: string) {
  const members = [await member(url), await member(url), await member(url)];
  const sender = await senderFor(members.map((m) => m.target));
  const { body } = await sender.seal(
    members.map((m) => m.target),
    innerMessage(),
  );
  return { members, sender, body };
}

/**
 * Sends `body` to `members` with their tokens and expects the whole send
 * refused with `code`, and nothing stored for anyone.
 */
export async function expectWholeSendRefused(
  url: string,
  members: readonly Member[],
  body: Uint8Array,
  code: RelayErrorCode,
): Promise<void> {
  const anonymous = await connectAnonymous(url);
  expect(await anonymous.request(multiFrame(body, tokensOf(members)))).toMatchObject({
    type: 'error',
    code,
  });
  for (const m of members) expect(await queued(url, m)).toBe(0);
  await anonymous.close();
}
