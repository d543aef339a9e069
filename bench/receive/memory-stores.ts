import {
  type Direction,
  IdentityChange,
  type IdentityKeyPair,
  IdentityKeyStore,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyRecord,
  PreKeyStore,
  type PrivateKey,
  type ProtocolAddress,
  PublicKey,
  SessionRecord,
  SessionStore,
  SignedPreKeyRecord,
  SignedPreKeyStore,
} from '@signalapp/libsignal-client';

// Minimal in-memory libsignal stores for the raw baseline. Like a database
// store, they keep serialized bytes: every save serializes, every get
// deserializes, so the baseline pays the same record (de)serialization a
// persistent store pays, but no SQL, no transaction and no overlay.

function key(address: ProtocolAddress): string {
  return `${address.name()}.${address.deviceId()}`;
}

function missing(what: string, id: number | string): Promise<never> {
  return Promise.reject(new Error(`no ${what} ${id}`));
}

export class MemorySessionStore extends SessionStore {
  private readonly records = new Map<string, Uint8Array<ArrayBuffer>>();

  override saveSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.records.set(key(address), record.serialize());
    return Promise.resolve();
  }
  override getSession(address: ProtocolAddress): Promise<SessionRecord | null> {
    const blob = this.records.get(key(address));
    return Promise.resolve(blob ? SessionRecord.deserialize(blob) : null);
  }
  override getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    const found: SessionRecord[] = [];
    for (const address of addresses) {
      const blob = this.records.get(key(address));
      if (!blob) return missing('session', key(address));
      found.push(SessionRecord.deserialize(blob));
    }
    return Promise.resolve(found);
  }
}

export class MemoryIdentityStore extends IdentityKeyStore {
  private readonly known = new Map<string, Uint8Array<ArrayBuffer>>();

  constructor(
    private readonly identity: IdentityKeyPair,
    private readonly registrationId: number,
  ) {
    super();
  }
  override getIdentityKey(): Promise<PrivateKey> {
    return Promise.resolve(this.identity.privateKey);
  }
  override getLocalRegistrationId(): Promise<number> {
    return Promise.resolve(this.registrationId);
  }
  override saveIdentity(address: ProtocolAddress, publicKey: PublicKey): Promise<IdentityChange> {
    const serialized = publicKey.serialize();
    const previous = this.known.get(address.name());
    this.known.set(address.name(), serialized);
    const replaced =
      previous !== undefined && !Buffer.from(previous).equals(Buffer.from(serialized));
    return Promise.resolve(
      replaced ? IdentityChange.ReplacedExisting : IdentityChange.NewOrUnchanged,
    );
  }
  override isTrustedIdentity(
    address: ProtocolAddress,
    publicKey: PublicKey,
    _direction: Direction,
  ): Promise<boolean> {
    const pinned = this.known.get(address.name());
    return Promise.resolve(
      !pinned || Buffer.from(pinned).equals(Buffer.from(publicKey.serialize())),
    );
  }
  override getIdentity(address: ProtocolAddress): Promise<PublicKey | null> {
    const pinned = this.known.get(address.name());
    return Promise.resolve(pinned ? PublicKey.deserialize(pinned) : null);
  }
}

export class MemoryPreKeyStore extends PreKeyStore {
  private readonly records = new Map<number, Uint8Array<ArrayBuffer>>();

  override savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.records.set(id, record.serialize());
    return Promise.resolve();
  }
  override getPreKey(id: number): Promise<PreKeyRecord> {
    const blob = this.records.get(id);
    return blob ? Promise.resolve(PreKeyRecord.deserialize(blob)) : missing('prekey', id);
  }
  override removePreKey(id: number): Promise<void> {
    this.records.delete(id);
    return Promise.resolve();
  }
}

export class MemorySignedPreKeyStore extends SignedPreKeyStore {
  private readonly records = new Map<number, Uint8Array<ArrayBuffer>>();

  override saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.records.set(id, record.serialize());
    return Promise.resolve();
  }
  override getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const blob = this.records.get(id);
    return blob
      ? Promise.resolve(SignedPreKeyRecord.deserialize(blob))
      : missing('signed prekey', id);
  }
}

export class MemoryKyberPreKeyStore extends KyberPreKeyStore {
  private readonly records = new Map<number, Uint8Array<ArrayBuffer>>();

  override saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.records.set(id, record.serialize());
    return Promise.resolve();
  }
  override getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const blob = this.records.get(id);
    return blob
      ? Promise.resolve(KyberPreKeyRecord.deserialize(blob))
      : missing('kyber prekey', id);
  }
  override markKyberPreKeyUsed(
    id: number,
    _signedPreKeyId: number,
    _baseKey: PublicKey,
  ): Promise<void> {
    this.records.delete(id); // one-time keys only in this baseline
    return Promise.resolve();
  }
}

/** The five stores of one party. */
export interface MemoryStores {
  readonly session: MemorySessionStore;
  readonly identity: MemoryIdentityStore;
  readonly preKey: MemoryPreKeyStore;
  readonly signedPreKey: MemorySignedPreKeyStore;
  readonly kyberPreKey: MemoryKyberPreKeyStore;
}

export function memoryStores(identity: IdentityKeyPair, registrationId: number): MemoryStores {
  return {
    session: new MemorySessionStore(),
    identity: new MemoryIdentityStore(identity, registrationId),
    preKey: new MemoryPreKeyStore(),
    signedPreKey: new MemorySignedPreKeyStore(),
    kyberPreKey: new MemoryKyberPreKeyStore(),
  };
}
