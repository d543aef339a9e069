import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { IdentityKeyPair, PrivateKey } from '@signalapp/libsignal-client';
import SealedSenderMultiRecipientMessage from '@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import { toBase64 } from '../../shared/protocol/encoding.ts';
import { MultiSender, type MultiTarget } from '../../tests/support/multi-sealing.ts';
import { RawRelayClient } from './raw-client.ts';

// One group message to N accounts of a relay: a single send.multi frame
// against N `send` frames carrying the same copies (pipelined, all in flight
// at once), on the same relay child, in alternating order. Timed from the
// first frame out to the last answer (all stored, committed) and to the last
// recipient's push.

const REGISTRATION_ID = 1234;

/** What one round measured, in ms and bytes. */
export interface MultiRound {
  readonly answeredMs: number;
  readonly deliveredMs: number;
  readonly frameBytes: number;
}

/** Publishes the keys the relay needs to know the device (it checks no prekey signature). */
export async function publish(member: RawRelayClient): Promise<void> {
  const signed = PrivateKey.generate().getPublicKey().serialize();
  const answer = await member.ask({
    type: 'keys.publish',
    keys: {
      accountId: member.accountId,
      deviceId: 1,
      registrationId: REGISTRATION_ID,
      identityKey: toBase64(member.identity.publicKey.serialize()),
      signedPreKey: {
        id: 1,
        publicKey: toBase64(signed),
        signature: toBase64(member.identity.privateKey.sign(signed)),
      },
      lastResortKyberPreKey: {
        id: 1,
        publicKey: toBase64(randomBytes(1569)),
        signature: toBase64(randomBytes(64)),
      },
      oneTimePreKeys: [],
      oneTimeKyberPreKeys: [],
    },
  });
  if (answer.type !== 'ok') throw new Error('keys.publish refused');
}

/** Resolves when `count` more envelopes have been pushed to the members. */
function arrivals(members: readonly RawRelayClient[], count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('pushes did not arrive')), 60_000);
    for (const member of members)
      member.onEnvelope = () => {
        seen += 1;
        if (seen === count) {
          clearTimeout(timer);
          resolve();
        }
      };
  });
}

async function timed(
  members: readonly RawRelayClient[],
  sender: RawRelayClient,
  frames: readonly Parameters<RawRelayClient['ask']>[0][],
): Promise<MultiRound> {
  const delivered = arrivals(members, members.length);
  const started = performance.now();
  const answers = await Promise.all(frames.map((frame) => sender.ask(frame)));
  const answeredMs = performance.now() - started;
  await delivered;
  const deliveredMs = performance.now() - started;
  for (const answer of answers)
    if (answer.type === 'error') throw new Error(`refused: ${answer.code}`);
  const frameBytes = frames.reduce((n, f) => n + JSON.stringify({ ...f, id: 1 }).length, 0);
  return { answeredMs, deliveredMs, frameBytes };
}

/** Runs `rounds` of each variant against the relay at `url`; returns the rounds of each. */
export async function multiVersusSingles(
  url: string,
  recipients: number,
  rounds: number,
  innerBytes: number,
): Promise<{ multi: MultiRound[]; singles: MultiRound[] }> {
  const members: RawRelayClient[] = [];
  for (let i = 0; i < recipients; i++) {
    const member = await RawRelayClient.connect(url, 'account');
    await publish(member);
    members.push(member);
  }
  const sender = await RawRelayClient.connect(url, 'anonymous');
  const author = IdentityKeyPair.generate();
  const ssv2 = new MultiSender(author, randomUUID());
  const targets: MultiTarget[] = members.map((m) => ({
    accountId: m.accountId,
    deviceId: 1,
    registrationId: REGISTRATION_ID,
    identity: m.identity,
  }));
  for (const target of targets) await ssv2.meet(target);
  const multi: MultiRound[] = [];
  const singles: MultiRound[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const { body } = await ssv2.seal(targets, new Uint8Array(randomBytes(innerBytes)));
      const parsed = new SealedSenderMultiRecipientMessage(body);
      const copies = parsed.recipientsByServiceIdString();
      const multiFrame = {
        type: 'send.multi' as const,
        clientMessageId: randomUUID(),
        body: toBase64(body),
        recipients: members.map((m) => ({ accountId: m.accountId, token: m.token })),
      };
      // The same stored bytes, one `send` per recipient.
      const sendFrames = members.map((m) => ({
        type: 'send' as const,
        envelope: {
          clientMessageId: randomUUID(),
          to: m.accountId,
          toDevice: 1,
          token: m.token,
          body: toBase64(parsed.messageForRecipient(copies[m.accountId]!)),
        },
      }));
      const variants = [
        async () => multi.push(await timed(members, sender, [multiFrame])),
        async () => singles.push(await timed(members, sender, sendFrames)),
      ];
      for (let i = 0; i < variants.length; i++) await variants[(round + i) % variants.length]!();
    }
  } finally {
    await Promise.all([sender, ...members].map((c) => c.close()));
  }
  return { multi, singles };
}
