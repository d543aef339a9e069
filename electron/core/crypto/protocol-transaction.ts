import {
  Direction,
  IdentityChange,
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
import { SottoError } from '../errors.ts';
import { deriveAccountId } from './account-id.ts';
import type { ProtocolState } from './protocol-state.ts';
import type { TrustRefusalCode } from './trust-refusals.ts';
import { type IdentityRow, ProtocolWrites } from './protocol-writes.ts';

/** The store key of a libsignal address: `<account id>.<device id>`. */
export function addressKey(address: ProtocolAddress): string {
  return `${address.name()}.${address.deviceId()}`;
}

/** True if `accountId` was derived from `key` (docs/message-format.md#account-ids). */
function certifies(key: Uint8Array, accountId: string): boolean {
  try {
    return deriveAccountId(PublicKey.deserialize(Uint8Array.from(key))) === accountId;
  } catch {
    return false;
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * A unit of work over the protocol state: libsignal's five stores, whose writes
 * land in an in-memory overlay (read-your-writes) instead of the database.
 * `child()` opens a nested unit (a savepoint): one envelope's writes are folded
 * into the batch only if that envelope was processed. The root's `writes` are
 * committed by the caller in one transaction (invariant R2).
 */
export class ProtocolTransaction {
  readonly writes = new ProtocolWrites();
  readonly sessionStore: SessionStore;
  readonly identityStore: IdentityKeyStore;
  readonly preKeyStore: PreKeyStore;
  readonly signedPreKeyStore: SignedPreKeyStore;
  readonly kyberPreKeyStore: KyberPreKeyStore;

  constructor(
    readonly state: ProtocolState,
    private readonly parent?: ProtocolTransaction,
    private readonly now: () => number = Date.now,
  ) {
    this.sessionStore = new OverlaySessionStore(this);
    this.identityStore = new OverlayIdentityStore(this);
    this.preKeyStore = new OverlayPreKeyStore(this);
    this.signedPreKeyStore = new OverlaySignedPreKeyStore(this);
    this.kyberPreKeyStore = new OverlayKyberPreKeyStore(this);
  }

  /** A nested unit whose writes reach this one only through `mergeIntoParent`. */
  child(): ProtocolTransaction {
    return new ProtocolTransaction(this.state, this, this.now);
  }

  /** Keeps a nested unit's writes (its work succeeded). */
  mergeIntoParent(): void {
    if (!this.parent) throw new Error('not a nested unit of work');
    this.parent.writes.absorb(this.writes);
  }

  session(address: string): SessionRecord | null {
    return (
      this.writes.sessions.get(address) ??
      this.parent?.session(address) ??
      this.state.getSession(address)
    );
  }

  identity(accountId: string): IdentityRow | undefined {
    return (
      this.writes.identities.get(accountId) ??
      this.parent?.identity(accountId) ??
      this.state.getIdentity(accountId)
    );
  }

  preKey(id: number): PreKeyRecord | undefined {
    if (this.isRemoved(id, (w) => w.removedPreKeys)) return undefined;
    return this.lookup((w) => w.preKeys.get(id)) ?? this.state.getPreKey(id);
  }

  signedPreKey(id: number): SignedPreKeyRecord | undefined {
    return this.lookup((w) => w.signedPreKeys.get(id)) ?? this.state.getSignedPreKey(id);
  }

  kyberPreKey(id: number): { record: KyberPreKeyRecord; lastResort: boolean } | undefined {
    if (this.isRemoved(id, (w) => w.removedKyberPreKeys)) return undefined;
    const pending = this.lookup((w) => w.kyberPreKeys.get(id));
    return pending ? { record: pending, lastResort: false } : this.state.getKyberPreKey(id);
  }

  kyberUsed(kyberId: number, signedId: number, baseKey: Uint8Array<ArrayBuffer>): boolean {
    const seen = this.lookup((w) =>
      w.kyberUses.some(
        (u) => u.kyberId === kyberId && u.signedId === signedId && sameKey(u.baseKey, baseKey),
      )
        ? true
        : undefined,
    );
    return seen ?? this.state.hasKyberUse(kyberId, signedId, baseKey);
  }

  /**
   * Pins a peer's identity key on first use. An account id is its key: a key
   * that does not derive `accountId` is a forgery (IDENTITY_MISMATCH, counted),
   * and so is a second key for a pinned account (that would need a hash
   * collision). Contacts change keys only by a signed move notice, which moves
   * them to a new account id (crypto/identity-move.ts).
   */
  saveIdentity(accountId: string, key: Uint8Array): IdentityChange {
    if (!this.accepts(accountId, key)) {
      this.refuse('identity.forged');
      throw new SottoError('IDENTITY_MISMATCH');
    }
    if (this.identity(accountId)) return IdentityChange.NewOrUnchanged;
    this.writes.identities.set(accountId, {
      accountId,
      publicKey: key,
      trust: 'trusted',
      verified: false,
      firstSeenAt: this.now(),
      changedAt: null,
    });
    return IdentityChange.NewOrUnchanged;
  }

  /** True if `key` may speak for `accountId`: it derives the id, and it is the pinned key if there is one. */
  accepts(accountId: string, key: Uint8Array): boolean {
    if (!certifies(key, accountId)) return false;
    const current = this.identity(accountId);
    return !current || sameKey(current.publicKey, key);
  }

  /** Counts a refusal in the root unit, so it is committed even if the envelope that caused it is dropped. */
  refuse(code: TrustRefusalCode): void {
    if (this.parent) this.parent.refuse(code);
    else this.writes.refusals.push(code);
  }

  /** The nearest value in this unit or its ancestors (read-your-writes). */
  private lookup<T>(pick: (w: ProtocolWrites) => T | undefined): T | undefined {
    return pick(this.writes) ?? this.parent?.lookup(pick);
  }

  private isRemoved(id: number, pick: (w: ProtocolWrites) => Set<number>): boolean {
    return this.lookup((w) => (pick(w).has(id) ? true : undefined)) ?? false;
  }
}

class OverlaySessionStore extends SessionStore {
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

class OverlayIdentityStore extends IdentityKeyStore {
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

class OverlayPreKeyStore extends PreKeyStore {
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

class OverlaySignedPreKeyStore extends SignedPreKeyStore {
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

class OverlayKyberPreKeyStore extends KyberPreKeyStore {
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
