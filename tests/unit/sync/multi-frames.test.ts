import { randomBytes } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import { MAX_FRAME_COPY_BYTES, planMultiFrames } from '../../../electron/core/sync/multi-frames.ts';
import {
  MultiSender,
  type MultiTarget,
  openCopy,
  SealedSenderMultiRecipientMessage,
} from '../../support/multi-sealing.ts';
import { accountIdOf } from '../../support/relay-client.ts';

// Splitting a group send into send.multi frames: every frame within the
// limits, every frame's body a sealed-sender v2 message that libsignal parses
// for exactly that frame's recipients, and every recipient's copy byte for
// byte the one the whole message gives it.

function targets(count: number): MultiTarget[] {
  return Array.from({ length: count }, (_, i) => {
    const identity = IdentityKeyPair.generate();
    return { identity, accountId: accountIdOf(identity), deviceId: 1, registrationId: 1 + i };
  });
}

/** Every recipient's copy, keyed by account id. */
function copies(body: Uint8Array): Map<string, string> {
  const message = new SealedSenderMultiRecipientMessage(Uint8Array.from(body));
  return new Map(
    Object.entries(message.recipientsByServiceIdString()).map(([id, r]) => [
      id,
      Buffer.from(message.messageForRecipient(r)).toString('hex'),
    ]),
  );
}

const submissionFor = (members: readonly MultiTarget[], body: Uint8Array) => ({
  clientMessageId: crypto.randomUUID(),
  body,
  recipients: [...new Set(members.map((t) => t.accountId))].map((accountId) => ({
    accountId,
    token: new Uint8Array(randomBytes(16)),
  })),
});

describe('send.multi frame planning', () => {
  const identity = IdentityKeyPair.generate();
  const sender = new MultiSender(identity, accountIdOf(identity));
  const crowd = targets(RELAY_LIMITS.maxMultiRecipients + 1);
  // One member with three devices: its entry lists them with the has-more bit.
  const multiDevice = crowd[5]!;
  const members = [
    ...crowd,
    { ...multiDevice, deviceId: 2, registrationId: 0x3fff },
    { ...multiDevice, deviceId: 9, registrationId: 77 },
  ];
  const ready = (async () => {
    for (const t of members) await sender.meet(t);
  })();

  it('a small group send is one frame carrying the body unchanged', async () => {
    await ready;
    const few = members.slice(0, 3);
    const { body } = await sender.seal(few, randomBytes(200));
    const plans = planMultiFrames(submissionFor(few, body));
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatchObject({ body: Buffer.from(body).toString('base64') });
  });

  for (const [name, payload] of [
    ['more recipients than a frame may list', 200],
    ['a large message for 1,001 recipients (split by frame size)', 80 * 1024],
  ] as const) {
    it(`${name}: frames within the limits, each a valid message for exactly its recipients`, async () => {
      await ready;
      const { body } = await sender.seal(members, randomBytes(payload));
      const submission = submissionFor(members, body);
      const whole = copies(body);
      const plans = planMultiFrames(submission);
      expect(plans.length).toBeGreaterThan(1);
      const seen: string[] = [];
      for (const plan of plans) {
        if ('tooLarge' in plan) throw new Error('no recipient is too large here');
        const frame = JSON.stringify({
          type: 'send.multi',
          id: 2 ** 53 - 1,
          clientMessageId: submission.clientMessageId,
          ...plan,
        });
        expect(frame.length).toBeLessThanOrEqual(RELAY_LIMITS.maxFrameBytes);
        expect(plan.recipients.length).toBeLessThanOrEqual(RELAY_LIMITS.maxMultiRecipients);
        const part = copies(fromBase64(plan.body));
        expect([...part.keys()].sort()).toEqual(plan.recipients.map((r) => r.accountId).sort());
        for (const [id, copy] of part) expect(copy).toBe(whole.get(id));
        seen.push(...plan.recipients.map((r) => r.accountId));
      }
      expect(seen).toEqual(submission.recipients.map((r) => r.accountId));
      const first = plans[0]!;
      const cut = 'recipients' in first ? first.recipients.length : 0;
      // By count the first frame holds the maximum; by size (the large message) fewer.
      if (payload > 1024) expect(cut).toBeLessThan(RELAY_LIMITS.maxMultiRecipients);
      else expect(cut).toBe(RELAY_LIMITS.maxMultiRecipients);
      // The three-device member's copy, cut from a split frame, still opens.
      const holder = plans.find(
        (p) => 'recipients' in p && p.recipients.some((r) => r.accountId === multiDevice.accountId),
      );
      if (holder === undefined || !('body' in holder)) throw new Error('member missing');
      const message = new SealedSenderMultiRecipientMessage(fromBase64(holder.body));
      const entry = message.recipientsByServiceIdString()[multiDevice.accountId]!;
      expect(entry.deviceIds).toEqual([1, 2, 9]);
      expect(entry.registrationIds).toEqual([6, 0x3fff, 77]);
      await openCopy(multiDevice.identity, message.messageForRecipient(entry));
    });
  }

  it('a large message to a mid-size group is split so no frame makes the relay store over 8 MiB of copies', async () => {
    await ready;
    const group = members.slice(0, 200);
    const { body } = await sender.seal(group, randomBytes(60 * 1024));
    const submission = submissionFor(group, body);
    const whole = copies(body);
    const plans = planMultiFrames(submission);
    expect(plans.length).toBeGreaterThan(1);
    const copySize = whole.values().next().value!.length / 2; // hex
    for (const plan of plans) {
      if ('tooLarge' in plan) throw new Error('no recipient is too large here');
      const part = new SealedSenderMultiRecipientMessage(fromBase64(plan.body));
      const devices = Object.values(part.recipientsByServiceIdString()).reduce(
        (n, r) => n + r.deviceIds.length,
        0,
      );
      expect(devices * copySize).toBeLessThanOrEqual(MAX_FRAME_COPY_BYTES);
    }
  });

  it('a split refuses a body that does not name exactly the submission’s recipients', async () => {
    await ready;
    const { body } = await sender.seal(members.slice(0, 1000), randomBytes(100));
    expect(() => planMultiFrames(submissionFor(members, body))).toThrow(/RELAY_REFUSED/);
    expect(() =>
      planMultiFrames(submissionFor(members, new Uint8Array(randomBytes(300_000)))),
    ).toThrow(/RELAY_REFUSED/);
  });
});
