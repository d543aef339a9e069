import type {
  KyberPreKeyRecord,
  PreKeyRecord,
  SessionRecord,
  SignedPreKeyRecord,
} from '@signalapp/libsignal-client';
import type { TrustRefusalCode } from './trust-refusals.ts';

/** Trust state of one peer's identity key (libsignal's identity store row). */
export interface IdentityRow {
  readonly accountId: string;
  readonly publicKey: Uint8Array;
  /** 'changed': the contact moved to a new account (a signed move notice) and the user has not accepted it yet. */
  readonly trust: 'trusted' | 'changed';
  readonly verified: boolean;
  readonly firstSeenAt: number;
  readonly changedAt: number | null;
}

/**
 * Every protocol-state change libsignal asked for during one unit of work. It
 * is applied in one SQLite transaction together with the messages it produced
 * (invariant R2), or thrown away whole.
 */
export class ProtocolWrites {
  readonly sessions = new Map<string, SessionRecord>();
  readonly identities = new Map<string, IdentityRow>();
  /** Keys refused during the unit (counted even when the envelope that carried them fails). */
  readonly refusals: TrustRefusalCode[] = [];
  readonly preKeys = new Map<number, PreKeyRecord>();
  readonly removedPreKeys = new Set<number>();
  readonly signedPreKeys = new Map<number, SignedPreKeyRecord>();
  readonly kyberPreKeys = new Map<number, KyberPreKeyRecord>();
  readonly removedKyberPreKeys = new Set<number>();
  readonly kyberUses: { kyberId: number; signedId: number; baseKey: Uint8Array }[] = [];

  /** Folds a nested unit's writes into this one (its savepoint succeeded). */
  absorb(child: ProtocolWrites): void {
    for (const [k, v] of child.sessions) this.sessions.set(k, v);
    for (const [k, v] of child.identities) this.identities.set(k, v);
    this.refusals.push(...child.refusals);
    for (const [k, v] of child.preKeys) this.preKeys.set(k, v);
    for (const id of child.removedPreKeys) {
      this.preKeys.delete(id);
      this.removedPreKeys.add(id);
    }
    for (const [k, v] of child.signedPreKeys) this.signedPreKeys.set(k, v);
    for (const [k, v] of child.kyberPreKeys) this.kyberPreKeys.set(k, v);
    for (const id of child.removedKyberPreKeys) {
      this.kyberPreKeys.delete(id);
      this.removedKyberPreKeys.add(id);
    }
    this.kyberUses.push(...child.kyberUses);
  }

  get isEmpty(): boolean {
    return (
      this.sessions.size +
        this.identities.size +
        this.preKeys.size +
        this.removedPreKeys.size +
        this.signedPreKeys.size +
        this.kyberPreKeys.size +
        this.removedKyberPreKeys.size +
        this.kyberUses.length +
        this.refusals.length ===
      0
    );
  }
}
