import {
  Direction,
  type IdentityChange,
  type IdentityKeyPair,
  IdentityKeyStore,
  type KyberPreKeyRecord,
  KyberPreKeyStore,
  type PreKeyRecord,
  PreKeyStore,
  type PrivateKey,
  type ProtocolAddress,
  PublicKey,
  type SessionRecord,
  SessionStore,
  type SignedPreKeyRecord,
  SignedPreKeyStore,
} from '@signalapp/libsignal-client';
import type { IdentityRow } from './protocol-writes.ts';
import type { ProtocolTransaction } from './protocol-transaction.ts';

// libsignal's five stores over a ProtocolTransaction: reads go through the
// unit of work (its writes, its parents', then the database), writes land in
// its overlay. The trust rules themselves are the transaction's (accepts,
// saveIdentity); these classes only adapt libsignal's interfaces to them.

/** The store key of a libsignal address: `<account id>.<device id>`. */
export function addressKey(address: ProtocolAddress): string {
  return `${address.name()}.${address.deviceId()}`;
}

/** Sessions by address: saved into the unit of work, read through it. */
export class OverlaySessionStore extends SessionStore {
  constructor(private readonly tx: ProtocolTransaction) {
    super();
  }
  override saveSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.tx.writes.sessions.set(addressKey(address), record);
    return Promise.resolve();
  }
  override getSession(address: ProtocolAddress): Promise<SessionRecord | null> {
    return Promise.resolve(this.tx.session(addressKey(address)));
  }
  override getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return Promise.resolve(
      addresses.map((address) => {
        const record = this.tx.session(addressKey(address));
        if (!record) throw new Error('no session for a requested address');
        return record;
      }),
    );
  }
}

/** Deserialized identity keys by the identity row they came from. */
const publicKeys = new WeakMap<IdentityRow, PublicKey>();

/** This account's identity and its peers' pinned keys, under the transaction's trust rules. */
export class OverlayIdentityStore extends IdentityKeyStore {
  constructor(private readonly tx: ProtocolTransaction) {
    super();
  }
  override getIdentityKey(): Promise<PrivateKey> {
    return Promise.resolve(this.tx.state.account.identity.privateKey);
  }
  // The base class derives the public key from the private one on every call
  // (a scalar multiplication per unseal and per seal): the pair is at hand.
  override getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return Promise.resolve(this.tx.state.account.identity);
  }
  override getLocalRegistrationId(): Promise<number> {
    return Promise.resolve(this.tx.state.account.registrationId);
  }
  override saveIdentity(address: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    return Promise.resolve(this.tx.saveIdentity(address.name(), key.serialize()));
  }
  override isTrustedIdentity(
    address: ProtocolAddress,
    key: PublicKey,
    direction: Direction,
  ): Promise<boolean> {
    // Both directions: only the key the account id was derived from may speak
    // for it or be written to (docs/threat-model.md#trust-decisions).
    if (!this.tx.accepts(address.name(), key.serialize())) {
      this.tx.refuse('identity.forged');
      return Promise.resolve(false);
    }
    // Sending waits while the contact's move to a new account is unaccepted.
    if (direction === Direction.Sending)
      return Promise.resolve(this.tx.identity(address.name())?.trust !== 'changed');
    return Promise.resolve(true);
  }
  override getIdentity(address: ProtocolAddress): Promise<PublicKey | null> {
    const current = this.tx.identity(address.name());
    if (!current) return Promise.resolve(null);
    // A group seal asks this once per member per send. The key is kept per row object:
    // an account's key never changes (it derives the id), and a new or re-read row is a new object.
    let key = publicKeys.get(current);
    if (!key) {
      key = PublicKey.deserialize(Uint8Array.from(current.publicKey));
      publicKeys.set(current, key);
    }
    return Promise.resolve(key);
  }
}

/** One-time prekeys: a removal is recorded in the unit of work until it commits. */
export class OverlayPreKeyStore extends PreKeyStore {
  constructor(private readonly tx: ProtocolTransaction) {
    super();
  }
  override savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.tx.writes.removedPreKeys.delete(id);
    this.tx.writes.preKeys.set(id, record);
    return Promise.resolve();
  }
  override getPreKey(id: number): Promise<PreKeyRecord> {
    const record = this.tx.preKey(id);
    return record ? Promise.resolve(record) : Promise.reject(new Error('no such prekey'));
  }
  override removePreKey(id: number): Promise<void> {
    this.tx.writes.preKeys.delete(id);
    this.tx.writes.removedPreKeys.add(id);
    return Promise.resolve();
  }
}

/** Signed prekeys, read through the unit of work. */
export class OverlaySignedPreKeyStore extends SignedPreKeyStore {
  constructor(private readonly tx: ProtocolTransaction) {
    super();
  }
  override saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.tx.writes.signedPreKeys.set(id, record);
    return Promise.resolve();
  }
  override getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const record = this.tx.signedPreKey(id);
    return record ? Promise.resolve(record) : Promise.reject(new Error('no such signed prekey'));
  }
}

/** Kyber prekeys: one-time keys are removed when used, last-resort ones record each use. */
export class OverlayKyberPreKeyStore extends KyberPreKeyStore {
  constructor(private readonly tx: ProtocolTransaction) {
    super();
  }
  override saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.tx.writes.removedKyberPreKeys.delete(id);
    this.tx.writes.kyberPreKeys.set(id, record);
    return Promise.resolve();
  }
  override getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const found = this.tx.kyberPreKey(id);
    return found
      ? Promise.resolve(found.record)
      : Promise.reject(new Error('no such kyber prekey'));
  }
  override markKyberPreKeyUsed(
    kyberId: number,
    signedId: number,
    baseKey: PublicKey,
  ): Promise<void> {
    const found = this.tx.kyberPreKey(kyberId);
    if (!found) return Promise.reject(new Error('no such kyber prekey'));
    if (!found.lastResort) {
      this.tx.writes.kyberPreKeys.delete(kyberId);
      this.tx.writes.removedKyberPreKeys.add(kyberId);
      return Promise.resolve();
    }
    const serialized = baseKey.serialize();
    if (this.tx.kyberUsed(kyberId, signedId, serialized)) {
      return Promise.reject(new Error('last-resort kyber prekey reused with the same base key'));
    }
    this.tx.writes.kyberUses.push({ kyberId, signedId, baseKey: serialized });
    return Promise.resolve();
  }
}
