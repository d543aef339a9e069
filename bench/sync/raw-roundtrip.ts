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
import { type MemoryStores, memoryStores } from '../receive/memory-stores.ts';

// The end-to-end baseline: raw libsignal encrypting and decrypting the same
// texts with in-memory stores, no storage, no network. The session set-up
// mirrors bench/receive/raw-libsignal.ts (whose helpers are not exported).

interface Party {
  readonly address: ProtocolAddress;
  readonly identity: IdentityKeyPair;
  readonly stores: MemoryStores;
}

function party(name: string, registrationId: number): Party {
  const identity = IdentityKeyPair.generate();
  return {
    address: ProtocolAddress.new(name, 1),
    identity,
    stores: memoryStores(identity, registrationId),
  };
}

async function bundleOf(bob: Party, registrationId: number): Promise<PreKeyBundle> {
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
    registrationId,
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

const encrypt = (from: Party, to: Party, plaintext: Uint8Array<ArrayBuffer>) =>
  signalEncrypt(plaintext, to.address, from.address, from.stores.session, from.stores.identity);

const decrypt = (at: Party, from: Party, body: Uint8Array<ArrayBuffer>) =>
  signalDecrypt(
    SignalMessage.deserialize(body),
    from.address,
    at.address,
    at.stores.session,
    at.stores.identity,
  );

/** Alice and Bob with a session acknowledged both ways (Alice now sends Whisper messages). */
async function establish(): Promise<{ alice: Party; bob: Party }> {
  const alice = party('alice', 1111);
  const bob = party('bob', 2222);
  const s = bob.stores;
  await processPreKeyBundle(
    await bundleOf(bob, 2222),
    bob.address,
    alice.address,
    alice.stores.session,
    alice.stores.identity,
  );
  const hello = await encrypt(alice, bob, new TextEncoder().encode('hello'));
  if (hello.type() !== (CiphertextMessageType.PreKey as number))
    throw new Error('expected a PreKey message first');
  const message = PreKeySignalMessage.deserialize(hello.serialize());
  await signalDecryptPreKey(
    message,
    alice.address,
    bob.address,
    s.session,
    s.identity,
    s.preKey,
    s.signedPreKey,
    s.kyberPreKey,
  );
  await decrypt(
    alice,
    bob,
    (await encrypt(bob, alice, new TextEncoder().encode('hi'))).serialize(),
  );
  return { alice, bob };
}

/** Encrypts then decrypts `texts`, returning the elapsed milliseconds. */
async function roundTrip(
  alice: Party,
  bob: Party,
  texts: readonly Uint8Array<ArrayBuffer>[],
): Promise<number> {
  const start = performance.now();
  const bodies: Uint8Array<ArrayBuffer>[] = [];
  for (const text of texts) {
    const message = await encrypt(alice, bob, text);
    if (message.type() !== (CiphertextMessageType.Whisper as number))
      throw new Error('expected Whisper messages');
    bodies.push(message.serialize());
  }
  for (const body of bodies) await decrypt(bob, alice, body);
  return performance.now() - start;
}

/**
 * Messages per second for raw libsignal over one established session:
 * N = texts.length, timed as encrypt all N then decrypt all N, after
 * `warmup` untimed round trips.
 */
export async function rawRoundTripRate(texts: readonly string[], warmup: number): Promise<number> {
  const { alice, bob } = await establish();
  const bytes = texts.map((t) => new TextEncoder().encode(t));
  await roundTrip(alice, bob, bytes.slice(0, warmup));
  const ms = await roundTrip(alice, bob, bytes);
  return (texts.length / ms) * 1000;
}
