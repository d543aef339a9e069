import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  ContentHint,
  groupEncrypt,
  IdentityKeyPair,
  KEMKeyPair,
  PreKeyBundle,
  PrivateKey,
  ProtocolAddress,
  processPreKeyBundle,
  SenderCertificate,
  SenderKeyDistributionMessage,
  SenderKeyRecord,
  SenderKeyStore,
  ServerCertificate,
  sealedSenderEncrypt,
  sealedSenderMultiRecipientEncrypt,
  signalEncrypt,
  UnidentifiedSenderMessageContent,
  type Uuid,
} from '@signalapp/libsignal-client';
import { MemoryIdentityStore, MemorySessionStore } from '../receive/memory-stores.ts';

// One message to N members, as a sender device does it, in memory (no
// storage, no relay: the relay write is timed on its own): the group path
// encrypts once with the sender key and seals once for all (sealed sender
// v2, what Sotto's group send does); the pairwise path encrypts and seals
// (v1) once per member, what sending without sender keys would cost.

/** Sender keys in memory. */
export class MemorySenderKeys extends SenderKeyStore {
  private readonly records = new Map<string, Uint8Array<ArrayBuffer>>();
  override saveSenderKey(
    sender: ProtocolAddress,
    id: Uuid,
    record: SenderKeyRecord,
  ): Promise<void> {
    this.records.set(`${sender.toString()}/${id}`, record.serialize());
    return Promise.resolve();
  }
  override getSenderKey(sender: ProtocolAddress, id: Uuid): Promise<SenderKeyRecord | null> {
    const blob = this.records.get(`${sender.toString()}/${id}`);
    return Promise.resolve(blob ? SenderKeyRecord.deserialize(blob) : null);
  }
}

/** Wall time, CPU time (user + system: less sensitive to a busy machine) and bytes of one send. */
export interface Timed {
  readonly ms: number;
  readonly cpuMs: number;
  readonly bytes: number;
}

/** Runs `work` and times it in wall and CPU ms. */
export async function timed(work: () => Promise<number>): Promise<Timed> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const bytes = await work();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, bytes };
}

/** A PQXDH prekey bundle (no one-time EC key) for `member`, made on the spot. */
export function memberBundle(member: IdentityKeyPair): PreKeyBundle {
  const signed = PrivateKey.generate();
  const kyber = KEMKeyPair.generate();
  return PreKeyBundle.new(
    2,
    1,
    null,
    null,
    1,
    signed.getPublicKey(),
    member.privateKey.sign(signed.getPublicKey().serialize()),
    member.publicKey,
    1,
    kyber.getPublicKey(),
    member.privateKey.sign(kyber.getPublicKey().serialize()),
  );
}

/** A sender with sessions to `members` members and a sender-key chain shared with them. */
export interface Fanout {
  readonly members: number;
  /** ms (and CPU-ms) to encrypt one message with the sender key and seal it once for every member. */
  group(plaintext: Uint8Array<ArrayBuffer>): Promise<Timed>;
  /** ms (and CPU-ms) to encrypt and seal one message for every member pairwise. */
  pairwise(plaintext: Uint8Array<ArrayBuffer>): Promise<Timed>;
}

/** Builds the sender and its `members` sessions (PQXDH bundles made on the spot). */
export async function fanout(members: number): Promise<Fanout> {
  const identity = IdentityKeyPair.generate();
  const self = ProtocolAddress.new(randomUUID(), 1);
  const sessions = new MemorySessionStore();
  const identities = new MemoryIdentityStore(identity, 1);
  const senderKeys = new MemorySenderKeys();
  const server = ServerCertificate.new(1, identity.publicKey, identity.privateKey);
  const certificate = SenderCertificate.new(
    self.name(),
    null,
    1,
    identity.publicKey,
    Date.now() + 24 * 60 * 60 * 1000,
    server,
    identity.privateKey,
  );
  const addresses: ProtocolAddress[] = [];
  for (let i = 0; i < members; i++) {
    const member = IdentityKeyPair.generate();
    const bundle = memberBundle(member);
    const address = ProtocolAddress.new(randomUUID(), 1);
    await processPreKeyBundle(bundle, address, self, sessions, identities);
    addresses.push(address);
  }
  const distributionId = randomUUID();
  await SenderKeyDistributionMessage.create(self, distributionId, senderKeys);
  const groupId = randomBytes(32);
  return {
    members,
    group(plaintext) {
      return timed(async () => {
        const message = await groupEncrypt(self, distributionId, senderKeys, plaintext);
        const usmc = UnidentifiedSenderMessageContent.new(
          message,
          certificate,
          ContentHint.Resendable,
          groupId,
        );
        return (await sealedSenderMultiRecipientEncrypt(usmc, addresses, identities, sessions))
          .length;
      });
    },
    pairwise(plaintext) {
      return timed(async () => {
        let bytes = 0;
        for (const address of addresses) {
          const message = await signalEncrypt(plaintext, address, self, sessions, identities);
          const usmc = UnidentifiedSenderMessageContent.new(
            message,
            certificate,
            ContentHint.Resendable,
            null,
          );
          bytes += (await sealedSenderEncrypt(usmc, address, identities)).length;
        }
        return bytes;
      });
    },
  };
}
