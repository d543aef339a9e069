import {
  IdentityKeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  SessionRecord,
  SignedPreKeyRecord,
} from '@signalapp/libsignal-client';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';
import type { Sql } from '../db/sqlite.ts';
import type { IdentityRow, ProtocolWrites } from './protocol-writes.ts';
import { countTrustRefusal } from './trust-refusals.ts';

/** This device's own account. */
export interface LocalAccount {
  readonly accountId: AccountId;
  readonly displayName: string;
  readonly deviceId: number;
  readonly registrationId: number;
  readonly identity: IdentityKeyPair;
}

type IdentityDbRow = {
  account_id: string;
  public_key: Uint8Array<ArrayBuffer>;
  trust: 'trusted' | 'changed';
  verified: number;
  first_seen_at: number;
  changed_at: number | null;
};

/**
 * libsignal's protocol state in the database: committed reads, plus `apply`,
 * which writes a unit of work's changes inside the caller's transaction. Hot
 * sessions are cached as records; the cache only ever holds committed state.
 */
export class ProtocolState {
  private readonly sessionCache = new Map<string, SessionRecord>();
  /** Committed identity rows by account id (null: known to have none). */
  private readonly identityCache = new Map<string, IdentityRow | null>();

  constructor(
    private readonly db: Sql,
    private current: LocalAccount,
    private readonly sessionCacheSize = 2048,
  ) {}

  get account(): LocalAccount {
    return this.current;
  }

  /** Switches to a new identity (after `resetIdentity` committed it). */
  replaceAccount(account: LocalAccount): void {
    this.current = account;
    this.clearCache();
  }

  /** Reads the account row written at creation. */
  static loadAccount(db: Sql): LocalAccount | undefined {
    const row = db.prepare('SELECT * FROM account WHERE singleton = 1').get<{
      account_id: string;
      display_name: string;
      device_id: number;
      registration_id: number;
      identity_key_pair: Uint8Array<ArrayBuffer>;
    }>();
    if (!row) return undefined;
    return {
      accountId: accountIdSchema.parse(row.account_id),
      displayName: row.display_name,
      deviceId: row.device_id,
      registrationId: row.registration_id,
      identity: IdentityKeyPair.deserialize(row.identity_key_pair),
    };
  }

  getSession(address: string): SessionRecord | null {
    const cached = this.sessionCache.get(address);
    if (cached) {
      // refresh LRU position
      this.sessionCache.delete(address);
      this.sessionCache.set(address, cached);
      return cached;
    }
    const blob = this.db
      .prepare('SELECT record FROM sessions WHERE address = ?', { pluck: true })
      .get<Uint8Array<ArrayBuffer>>([address]);
    if (!blob) return null;
    const record = SessionRecord.deserialize(blob);
    this.remember(address, record);
    return record;
  }

  getIdentity(accountId: string): IdentityRow | undefined {
    const cached = this.identityCache.get(accountId);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.db
      .prepare('SELECT * FROM identities WHERE account_id = ?')
      .get<IdentityDbRow>([accountId]);
    const identity = row && toIdentity(row);
    if (this.identityCache.size >= 4096) this.identityCache.clear();
    this.identityCache.set(accountId, identity ?? null);
    return identity;
  }

  getPreKey(id: number): PreKeyRecord | undefined {
    const blob = this.db
      .prepare('SELECT record FROM pre_keys WHERE id = ?', { pluck: true })
      .get([id]);
    return blob instanceof Uint8Array ? PreKeyRecord.deserialize(blob) : undefined;
  }

  getSignedPreKey(id: number): SignedPreKeyRecord | undefined {
    const blob = this.db
      .prepare('SELECT record FROM signed_pre_keys WHERE id = ?', { pluck: true })
      .get([id]);
    return blob instanceof Uint8Array ? SignedPreKeyRecord.deserialize(blob) : undefined;
  }

  getKyberPreKey(id: number): { record: KyberPreKeyRecord; lastResort: boolean } | undefined {
    const row = this.db
      .prepare('SELECT record, last_resort FROM kyber_pre_keys WHERE id = ?')
      .get<{ record: Uint8Array<ArrayBuffer>; last_resort: number }>([id]);
    return (
      row && {
        record: KyberPreKeyRecord.deserialize(row.record),
        lastResort: row.last_resort === 1,
      }
    );
  }

  hasKyberUse(kyberId: number, signedId: number, baseKey: Uint8Array<ArrayBuffer>): boolean {
    return (
      this.db
        .prepare(
          'SELECT 1 FROM kyber_pre_key_uses WHERE kyber_pre_key_id = ? AND signed_pre_key_id = ? AND base_key = ?',
        )
        .get([kyberId, signedId, baseKey]) !== undefined
    );
  }

  /**
   * Writes `writes` with the caller's open transaction. Returns the step that
   * publishes them to the session cache, to run only after COMMIT succeeded.
   */
  apply(writes: ProtocolWrites, now: number): () => void {
    const saveSession = this.db.prepare(
      'INSERT INTO sessions (address, record, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (address) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at',
    );
    for (const [address, record] of writes.sessions)
      saveSession.run([address, record.serialize(), now]);

    const saveIdentity = this.db.prepare(
      `INSERT INTO identities (account_id, public_key, trust, verified, first_seen_at, changed_at)
       VALUES ($accountId, $publicKey, $trust, $verified, $firstSeenAt, $changedAt)
       ON CONFLICT (account_id) DO UPDATE SET public_key = excluded.public_key, trust = excluded.trust,
         verified = excluded.verified, changed_at = excluded.changed_at`,
    );
    for (const row of writes.identities.values()) {
      saveIdentity.run({
        accountId: row.accountId,
        publicKey: Uint8Array.from(row.publicKey),
        trust: row.trust,
        verified: row.verified ? 1 : 0,
        firstSeenAt: row.firstSeenAt,
        changedAt: row.changedAt,
      });
    }
    for (const code of writes.refusals) countTrustRefusal(this.db, code, now);
    const savePreKey = this.db.prepare(
      'INSERT OR REPLACE INTO pre_keys (id, record, created_at) VALUES (?, ?, ?)',
    );
    for (const [id, record] of writes.preKeys) savePreKey.run([id, record.serialize(), now]);
    const removePreKey = this.db.prepare('DELETE FROM pre_keys WHERE id = ?');
    for (const id of writes.removedPreKeys) removePreKey.run([id]);

    const saveSigned = this.db.prepare(
      'INSERT OR REPLACE INTO signed_pre_keys (id, record, created_at) VALUES (?, ?, ?)',
    );
    for (const [id, record] of writes.signedPreKeys) saveSigned.run([id, record.serialize(), now]);

    const saveKyber = this.db.prepare(
      'INSERT OR REPLACE INTO kyber_pre_keys (id, record, last_resort, created_at) VALUES (?, ?, 0, ?)',
    );
    for (const [id, record] of writes.kyberPreKeys) saveKyber.run([id, record.serialize(), now]);
    const removeKyber = this.db.prepare(
      'DELETE FROM kyber_pre_keys WHERE id = ? AND last_resort = 0',
    );
    for (const id of writes.removedKyberPreKeys) removeKyber.run([id]);
    const useKyber = this.db.prepare(
      'INSERT INTO kyber_pre_key_uses (kyber_pre_key_id, signed_pre_key_id, base_key) VALUES (?, ?, ?)',
    );
    for (const use of writes.kyberUses)
      useKyber.run([use.kyberId, use.signedId, Uint8Array.from(use.baseKey)]);

    return () => {
      for (const [address, record] of writes.sessions) this.remember(address, record);
      // Identity rows are re-read after a change (flags may be set by other statements).
      for (const accountId of writes.identities.keys()) this.identityCache.delete(accountId);
    };
  }

  /** Forgets cached state (after a change made outside a unit of work, e.g. a trust decision). */
  clearCache(): void {
    this.sessionCache.clear();
    this.identityCache.clear();
  }

  private remember(address: string, record: SessionRecord): void {
    if (this.sessionCacheSize === 0) return;
    this.sessionCache.delete(address);
    this.sessionCache.set(address, record);
    if (this.sessionCache.size > this.sessionCacheSize) {
      const oldest = this.sessionCache.keys().next();
      if (!oldest.done) this.sessionCache.delete(oldest.value);
    }
  }
}

function toIdentity(row: IdentityDbRow): IdentityRow {
  return {
    accountId: row.account_id,
    publicKey: row.public_key,
    trust: row.trust,
    verified: row.verified === 1,
    firstSeenAt: row.first_seen_at,
    changedAt: row.changed_at,
  };
}
