import {
  IdentityChange,
  type IdentityKeyStore,
  type KyberPreKeyRecord,
  type KyberPreKeyStore,
  type PreKeyRecord,
  type PreKeyStore,
  PublicKey,
  type SessionRecord,
  type SessionStore,
  type SignedPreKeyRecord,
  type SignedPreKeyStore,
} from '@signalapp/libsignal-client';
import { SottoError } from '../errors.ts';
import { deriveAccountId } from './account-id.ts';
import type { ProtocolState } from './protocol-state.ts';
import type { TrustRefusalCode } from './trust-refusals.ts';
import { type IdentityRow, ProtocolWrites } from './protocol-writes.ts';
import {
  OverlayIdentityStore,
  OverlayKyberPreKeyStore,
  OverlayPreKeyStore,
  OverlaySessionStore,
  OverlaySignedPreKeyStore,
} from './overlay-stores.ts';

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
