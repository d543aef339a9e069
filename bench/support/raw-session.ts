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

// Raw libsignal sessions with in-memory stores, shared by the raw baselines
// (bench/receive/raw-libsignal.ts and bench/sync/raw-roundtrip.ts): no
// storage, no network.

/** One side of a raw session: its address, identity and in-memory stores. */
export interface Party {
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

/** Encrypts on an acknowledged session; the serialized Whisper message (throws for any other kind). */
export async function encryptWhisper(
  from: Party,
  to: Party,
  plaintext: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const message = await encrypt(from, to, plaintext);
  if (message.type() !== (CiphertextMessageType.Whisper as number))
    throw new Error('expected Whisper messages');
  return message.serialize();
}

/** Decrypts a serialized Whisper message `from` sent to `at`. */
export function decryptWhisper(
  at: Party,
  from: Party,
  body: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  return signalDecrypt(
    SignalMessage.deserialize(body),
    from.address,
    at.address,
    at.stores.session,
    at.stores.identity,
  );
}

/**
 * Alice and Bob with a session acknowledged both ways: Alice processes Bob's
 * bundle and sends `hello` (a PreKey message), Bob answers `reply`, so Alice's
 * later messages are plain Whisper messages.
 */
export async function establishSession(
  hello: Uint8Array<ArrayBuffer>,
  reply: Uint8Array<ArrayBuffer>,
): Promise<{ alice: Party; bob: Party }> {
  const alice = party('alice', 1111);
  const bob = party('bob', 2222);
  await processPreKeyBundle(
    await publishBundle(bob),
    bob.address,
    alice.address,
    alice.stores.session,
    alice.stores.identity,
  );

  const first = await encrypt(alice, bob, hello);
  if (first.type() !== (CiphertextMessageType.PreKey as number))
    throw new Error('expected a PreKey message first');
  const s = bob.stores;
  await signalDecryptPreKey(
    PreKeySignalMessage.deserialize(first.serialize()),
    alice.address,
    bob.address,
    s.session,
    s.identity,
    s.preKey,
    s.signedPreKey,
    s.kyberPreKey,
  );
  await decryptWhisper(alice, bob, await encryptWhisper(bob, alice, reply));
  return { alice, bob };
}
