import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  CiphertextMessageType,
  IdentityKeyPair,
  KEMKeyPair,
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PrivateKey,
  ProtocolAddress,
  processPreKeyBundle,
  SignalMessage,
  SignedPreKeyRecord,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import { type MemoryStores, memoryStores } from './memory-stores.ts';

/** Decrypt throughput of one run. */
export interface Throughput {
  readonly messages: number;
  readonly ms: number;
  readonly perSecond: number;
}

interface Party {
  readonly address: ProtocolAddress;
  readonly identity: IdentityKeyPair;
  readonly registrationId: number;
  readonly stores: MemoryStores;
}

function party(name: string, registrationId: number): Party {
  const identity = IdentityKeyPair.generate();
  return {
    address: ProtocolAddress.new(name, 1),
    identity,
    registrationId,
    stores: memoryStores(identity, registrationId),
  };
}

/** Gives `bob` one prekey of each kind and returns the bundle a directory would serve. */
async function publishBundle(bob: Party): Promise<PreKeyBundle> {
  const now = Date.now();
  const preKey = PrivateKey.generate();
  const signed = PrivateKey.generate();
  const signedSig = bob.identity.privateKey.sign(signed.getPublicKey().serialize());
  const kyber = KEMKeyPair.generate();
  const kyberSig = bob.identity.privateKey.sign(kyber.getPublicKey().serialize());
  await bob.stores.preKey.savePreKey(1, PreKeyRecord.new(1, preKey.getPublicKey(), preKey));
  await bob.stores.signedPreKey.saveSignedPreKey(
    1,
    SignedPreKeyRecord.new(1, now, signed.getPublicKey(), signed, signedSig),
  );
  await bob.stores.kyberPreKey.saveKyberPreKey(1, KyberPreKeyRecord.new(1, now, kyber, kyberSig));
  return PreKeyBundle.new(
    bob.registrationId,
    1,
    1,
    preKey.getPublicKey(),
    1,
    signed.getPublicKey(),
    signedSig,
    bob.identity.publicKey,
    1,
    kyber.getPublicKey(),
    kyberSig,
  );
}

function encrypt(from: Party, to: Party, plaintext: Uint8Array<ArrayBuffer>) {
  return signalEncrypt(
    plaintext,
    to.address,
    from.address,
    from.stores.session,
    from.stores.identity,
  );
}

function decryptWhisper(at: Party, from: Party, body: Uint8Array<ArrayBuffer>) {
  return signalDecrypt(
    SignalMessage.deserialize(body),
    from.address,
    at.address,
    at.stores.session,
    at.stores.identity,
  );
}

/**
 * Establishes a session both ways (PreKey message, then a reply, so the
 * sender's later messages are plain Whisper messages), pre-encrypts
 * `warmup + messages` plaintexts of `bytes` bytes, then times decrypting
 * `messages` of them after `warmup` untimed ones.
 */
export async function rawLibsignalDecrypts(
  messages: number,
  warmup: number,
  bytes: number,
): Promise<Throughput> {
  const alice = party('alice', 1111);
  const bob = party('bob', 2222);
  await processPreKeyBundle(
    await publishBundle(bob),
    bob.address,
    alice.address,
    alice.stores.session,
    alice.stores.identity,
  );

  const hello = await encrypt(alice, bob, randomBytes(bytes));
  if (hello.type() !== (CiphertextMessageType.PreKey as number))
    throw new Error('expected a PreKey message first');
  const s = bob.stores;
  await signalDecryptPreKey(
    PreKeySignalMessage.deserialize(hello.serialize()),
    alice.address,
    bob.address,
    s.session,
    s.identity,
    s.preKey,
    s.signedPreKey,
    s.kyberPreKey,
  );
  const reply = await encrypt(bob, alice, randomBytes(bytes));
  await decryptWhisper(alice, bob, reply.serialize());

  const bodies: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < warmup + messages; i++) {
    const message = await encrypt(alice, bob, randomBytes(bytes));
    if (message.type() !== (CiphertextMessageType.Whisper as number))
      throw new Error('expected Whisper messages');
    bodies.push(message.serialize());
  }
  for (const body of bodies.slice(0, warmup)) await decryptWhisper(bob, alice, body);

  const start = performance.now();
  for (const body of bodies.slice(warmup)) await decryptWhisper(bob, alice, body);
  const ms = performance.now() - start;
  return { messages, ms, perSecond: (messages / ms) * 1000 };
}
