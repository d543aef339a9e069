import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { IdentityKeyPair, processPreKeyBundle } from '@signalapp/libsignal-client';
import { deriveAccountId } from '../../electron/core/crypto/account-id.ts';
import { ProtocolTransaction } from '../../electron/core/crypto/protocol-transaction.ts';
import {
  distributeSenderKeys,
  encryptGroupQueued,
  queueGroupText,
} from '../../electron/core/groups/group-queue.ts';
import { sendGroupOutbox } from '../../electron/core/groups/group-send.ts';
import { saveGroup } from '../../electron/core/groups/group-store.ts';
import { peerAddress } from '../../electron/core/messaging/addresses.ts';
import type { Relay } from '../../electron/core/sync/relay.ts';
import { toBase64 } from '../../shared/protocol/encoding.ts';
import type { GroupMember } from '../../shared/protocol/group.ts';
import { benchProfile, benchText } from '../receive/pair.ts';
import { memberBundle, type Timed, timed } from './fanout.ts';

// Sotto's own group send, what `groups:send` costs a device before the relay
// write: store and queue the message, groupEncrypt committed with the
// ciphertext (R4), then the send step (who is waiting, which relay, one
// sealed-sender v2 seal for all, the bookkeeping commit). The relay is a
// stand-in that stores nothing and answers "stored" for everyone: its write
// is timed on its own (relay-store.ts), and the real client is exercised by
// tests/integration/groups.

/** One product send: wall, CPU and bytes of the whole, and wall ms by stage. */
export interface SendStages extends Timed {
  readonly queue: number;
  readonly encrypt: number;
  readonly send: number;
}

/** A sender profile in a group with `members` other members, each with a session and our chain. */
export interface ProductSender {
  send(i: number): Promise<SendStages>;
  close(): Promise<void>;
}

/** Builds the sender: sessions from bundles made on the spot, the group stored, the chain shared. */
export async function productSender(members: number): Promise<ProductSender> {
  const profile = await benchProfile('Alice');
  const tx = new ProtocolTransaction(profile.state);
  const cards: GroupMember[] = [card(profile.account.accountId, profile.account.identity, true)];
  for (let i = 0; i < members; i++) {
    const member = IdentityKeyPair.generate();
    const accountId = deriveAccountId(member.publicKey);
    const bundle = memberBundle(member);
    await processPreKeyBundle(
      bundle,
      peerAddress(accountId, 1),
      peerAddress(profile.account.accountId, profile.account.deviceId),
      tx.sessionStore,
      tx.identityStore,
    );
    cards.push(card(accountId, member, false));
  }
  const groupId = toBase64(randomBytes(32));
  profile.commit(tx, (db) =>
    saveGroup(
      db,
      { groupId, title: 'Bench', revision: 0, head: toBase64(randomBytes(32)), members: cards },
      undefined,
      'member',
      Date.now(),
    ),
  );
  await distributeSenderKeys(profile);
  // The SKDMs would leave through the 1:1 pass; taken as sent, so every member may get group messages.
  profile.commit(undefined, (db) => db.prepare("DELETE FROM outbox WHERE kind = 'group'").run());
  let bytes = 0;
  const relay = {
    sendMulti(submission: Parameters<Relay['sendMulti']>[0]) {
      bytes = submission.body.length;
      return Promise.resolve(new Map(submission.recipients.map((r) => [r.accountId, undefined])));
    },
  } as unknown as Relay;
  const context = { relay: () => relay, backoff: new Map<string, number>() };
  return {
    async send(i) {
      const marks: number[] = [];
      const whole = await timed(async () => {
        marks.push(performance.now());
        queueGroupText(profile, groupId, benchText(i));
        marks.push(performance.now());
        await encryptGroupQueued(profile);
        marks.push(performance.now());
        const stored = await sendGroupOutbox(profile, context);
        marks.push(performance.now());
        if (stored !== 1) throw new Error(`group send stored ${stored} relay sends`);
        return bytes;
      });
      const stage = (n: number) => marks[n + 1]! - marks[n]!;
      return { ...whole, queue: stage(0), encrypt: stage(1), send: stage(2) };
    },
    close: () => profile.close(),
  };
}

function card(accountId: string, identity: IdentityKeyPair, admin: boolean): GroupMember {
  return {
    accountId: accountId as GroupMember['accountId'],
    identityKey: toBase64(identity.publicKey.serialize()),
    name: 'Member',
    relay: 'wss://relay.bench.invalid',
    relayId: 'AAAAAAAAAAAAAAAAAAAAAA',
    token: toBase64(randomBytes(16)),
    admin,
  };
}
