import pg from 'pg';
import type { AccountId } from '../../shared/protocol/account-id.ts';
import type { BlobId } from '../../shared/protocol/attachment.ts';
import type { PublishedKeys } from '../../shared/protocol/keys.ts';
import type { RelayId } from '../../shared/relay/protocol.ts';
import type { BucketSpec } from '../token-bucket.ts';
import type {
  AccountRecord,
  AckResult,
  BudgetLease,
  DeviceRegistration,
  ExpiredBlob,
  KeyIds,
  Mailbox,
  NewestQueued,
  NewBlob,
  NewEnvelope,
  OneTimeKeyCounts,
  PublishResult,
  RelayStorage,
  StoredBlob,
  StoredEnvelope,
  StoreLimits,
  StoreResult,
  TakenBundle,
} from '../storage.ts';
import { Batcher } from './batcher.ts';
import { retryDeadlockOnce } from './deadlock.ts';
import { postgresBlobs } from './blobs.ts';
import { postgresBudgets } from './budgets.ts';
import { postgresKeys } from './keys.ts';
import { postgresMailboxes, type Ack } from './mailboxes.ts';
import {
  accountFromRow,
  identityKeyRowSchema,
  metaRowsSchema,
  relayIdRowSchema,
  wakeKeyRowSchema,
} from './rows.ts';
import { migrate } from './schema.ts';
import { StoreQueue } from './store-queue.ts';
import { Gathering } from './gathering.ts';
import { inTransaction } from './transaction.ts';
import { Wakeups, type Wakeup } from './wakeups.ts';

/** pg_try_advisory_xact_lock key of the TTL sweep: one node sweeps at a time. */
const SWEEP_LOCK = 0x736f74746f + 1;
/** Pool size per node (docs/relay-operations.md#sizing). */
const POOL_SIZE = 10;
/**
 * How long acks wait for others to share their statement, or for a store
 * call to ride in (migration 7): an ack's answer
 * only frees push-window slots, nothing a message waits for, while one
 * statement per ack was a quarter of what a message cost PostgreSQL. 30 ms
 * rather than 10: 0.17 instead of 0.23-0.40 ack calls per message at 150/s
 * (docs/relay-operations.md#what-a-message-costs); a window of 200 freed 30
 * ms late still passes thousands of envelopes a second per connection.
 */
export const ACK_WINDOW_MS = 30;

/** What a node's operator may tune (relay/cli-args.ts). */
export interface PostgresStorageOptions {
  /** How long a store right after a store call waits for company (relay/postgres/gathering.ts; 0: never; default GATHER_MS). */
  readonly storeGatherMs?: number;
}

type PushRead = { readonly mailbox: Mailbox; readonly afterSeq: number; readonly limit: number };

/**
 * RelayStorage on PostgreSQL, shared by any number of stateless relay nodes
 * (docs/relay-operations.md). Stores of one window commit together with the
 * acks pending then (store-queue.ts), as do the push reads of a turn and the
 * acks no store came for within ACK_WINDOW_MS; each node LISTENs for the
 * others' wakeups (wakeups.ts).
 */
export class PostgresRelayStorage implements RelayStorage {
  private readonly stores: StoreQueue;
  private wakeListener: ((wakeup: Wakeup) => void) | undefined;
  private readonly wakeups: Wakeups;
  private readonly acks: Batcher<Ack, AckResult>;
  // Push reads of one turn (the pushes a store batch woke): no added latency.
  private readonly pushReads: Batcher<PushRead, StoredEnvelope[]>;

  private constructor(
    private readonly pool: pg.Pool,
    config: pg.ClientConfig,
    readonly relayId: RelayId,
    wakeKey: Buffer,
    options: PostgresStorageOptions,
  ) {
    this.wakeups = new Wakeups(config, pool, wakeKey, (wakeup) => this.wakeListener?.(wakeup));
    this.acks = new Batcher(ACK_WINDOW_MS, (acks) =>
      retryDeadlockOnce(() => postgresMailboxes.deleteAckedBatch(this.pool, acks)),
    );
    this.pushReads = new Batcher(0, (reads) => postgresMailboxes.listMany(this.pool, reads));
    this.stores = new StoreQueue(
      pool,
      this.acks,
      (items) => this.wakeups.publish(items),
      new Gathering(options.storeGatherMs),
    );
  }

  /** Connects, migrates (under an advisory lock) and starts listening for wakeups. */
  static async open(
    connectionString: string,
    options: PostgresStorageOptions = {},
  ): Promise<PostgresRelayStorage> {
    const config: pg.ClientConfig = {
      connectionString,
      // A stuck statement or an abandoned transaction must not hold locks (and xmin) for long.
      statement_timeout: 30_000,
      idle_in_transaction_session_timeout: 30_000,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    };
    // Never closes an idle client: a backend start (a fork, then cold catalog and
    // plan caches) costs PostgreSQL more CPU than hundreds of messages, and a pool
    // that shrank between bursts forked it again at every burst.
    const pool = new pg.Pool({ ...config, max: POOL_SIZE, idleTimeoutMillis: 0 });
    // An idle client's error (the server restarted) must not crash the node; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
      const { rows } = await pool.query(
        "SELECT key, value FROM relay_meta WHERE key IN ('relay_id', 'wake_key')",
      );
      const meta = metaRowsSchema.parse(rows);
      const relayId = relayIdRowSchema.parse(meta.find((row) => row.key === 'relay_id')).value;
      const wakeKey = wakeKeyRowSchema.parse(meta.find((row) => row.key === 'wake_key')).value;
      const storage = new PostgresRelayStorage(
        pool,
        config,
        relayId,
        Buffer.from(wakeKey, 'hex'),
        options,
      );
      await storage.wakeups.start();
      return storage;
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  /** Other nodes stored envelopes for these mailboxes ('all': rescan every local mailbox). */
  onEnvelopesArrived(listener: (wakeup: Wakeup) => void): void {
    this.wakeListener = listener;
  }

  /** Notifications this node's LISTEN connection received (tests count duplicates with it). */
  get wakeupsReceived(): number {
    return this.wakeups.received;
  }

  async account(accountId: AccountId): Promise<AccountRecord | undefined> {
    // Named (prepared once per pooled connection): every anonymous send reads it.
    const { rows } = await this.pool.query({
      name: 'relay-account',
      text: 'SELECT identity_key, token_hash, moved_at FROM account WHERE account_id = $1',
      values: [accountId],
    });
    return rows[0] === undefined ? undefined : accountFromRow(rows[0]);
  }

  async bindIdentityKey(
    accountId: AccountId,
    identityKey: Uint8Array,
    now: number,
  ): Promise<Uint8Array> {
    const { rows } = await this.pool.query(
      `INSERT INTO account (account_id, identity_key, bound_at) VALUES ($1, $2, $3)
       ON CONFLICT (account_id) DO NOTHING RETURNING identity_key`,
      [accountId, Buffer.from(identityKey), now],
    );
    if (rows[0] !== undefined)
      return Uint8Array.from(identityKeyRowSchema.parse(rows[0]).identity_key);
    // Lost the race: read the winner in a statement of its own. A read inside
    // the insert's statement uses that statement's snapshot, taken before the
    // winner committed, and finds nothing (tests/.../postgres/bind-race.test.ts).
    const known = await this.account(accountId);
    if (known === undefined) throw new Error('account row missing after a conflicting insert');
    return known.identityKey;
  }

  async setTokenHash(accountId: AccountId, tokenHash: Uint8Array): Promise<void> {
    await this.pool.query('UPDATE account SET token_hash = $2 WHERE account_id = $1', [
      accountId,
      Buffer.from(tokenHash),
    ]);
  }

  async movedAmong(accountIds: readonly AccountId[]): Promise<AccountId[]> {
    const { rows } = await this.pool.query(
      'SELECT account_id FROM account WHERE account_id = ANY($1::uuid[]) AND moved_at IS NOT NULL',
      [accountIds],
    );
    return rows.map((row) => (row as { account_id: AccountId }).account_id);
  }

  async markMoved(from: AccountId, now: number): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      await db.query(
        'UPDATE account SET moved_at = $2 WHERE account_id = $1 AND moved_at IS NULL',
        [from, now],
      );
      await postgresKeys.forget(db, from);
    });
  }

  async publishKeys(keys: PublishedKeys, now: number, maxStored: number): Promise<PublishResult> {
    const refused = new Error('too many keys');
    try {
      return await inTransaction(this.pool, async (db) => {
        const result = await postgresKeys.publish(db, keys, now, maxStored);
        // Rolling back stores nothing at all, as the interface promises.
        if (result === 'too-many-keys') throw refused;
        return result;
      });
    } catch (error) {
      if (error === refused) return 'too-many-keys';
      throw error;
    }
  }

  async takeBundle(
    accountId: AccountId,
    deviceId: number,
    now: number,
  ): Promise<TakenBundle | undefined> {
    return await inTransaction(this.pool, (db) => postgresKeys.take(db, accountId, deviceId, now));
  }

  async forgetTakenKeys(cutoff: number, limit: number): Promise<number> {
    return await postgresKeys.forgetTaken(this.pool, cutoff, limit);
  }

  async oneTimeKeyCounts(
    accountId: AccountId,
    deviceId: number,
  ): Promise<OneTimeKeyCounts | undefined> {
    return await postgresKeys.remaining(this.pool, accountId, deviceId);
  }

  async keyIds(accountId: AccountId, deviceId: number): Promise<KeyIds> {
    return await inTransaction(
      this.pool,
      (db) => postgresKeys.ids(db, accountId, deviceId),
      'REPEATABLE READ',
    );
  }

  async devicesOf(accountIds: readonly AccountId[]): Promise<DeviceRegistration[]> {
    return await postgresKeys.devicesOf(this.pool, accountIds);
  }

  storeEnvelopes(envelopes: readonly NewEnvelope[], limits: StoreLimits): Promise<StoreResult[]> {
    return this.stores.add(envelopes, limits);
  }

  async listQueued(mailbox: Mailbox, afterSeq: number, limit: number): Promise<StoredEnvelope[]> {
    return await this.pushReads.add({ mailbox, afterSeq, limit });
  }

  async newestQueued(mailboxes: readonly Mailbox[]): Promise<NewestQueued[]> {
    return await postgresMailboxes.newest(this.pool, mailboxes);
  }

  async deleteAcked(mailbox: Mailbox, envelopeIds: readonly string[]): Promise<AckResult> {
    return await this.acks.add({ mailbox, envelopeIds });
  }

  async countQueued(mailbox: Mailbox): Promise<number> {
    return await postgresMailboxes.count(this.pool, mailbox);
  }

  async expireBefore(cutoff: number, limit: number): Promise<number> {
    return await inTransaction(this.pool, async (db) => {
      // Another node is sweeping: two sweeps would only wait on each other's rows.
      const { rows } = await db.query('SELECT pg_try_advisory_xact_lock($1) AS mine', [SWEEP_LOCK]);
      if ((rows[0] as { mine?: unknown } | undefined)?.mine !== true) return 0;
      // The sweep also forgets full budget buckets, so the table holds only the active ones.
      await postgresBudgets.prune(db);
      return await postgresMailboxes.expire(db, cutoff, limit);
    });
  }

  async createBlob(
    blob: NewBlob,
    quotaBytes: number,
    now: number,
  ): Promise<'created' | 'over-quota'> {
    return await inTransaction(this.pool, (db) => postgresBlobs.create(db, blob, quotaBytes, now));
  }

  async blob(blobId: BlobId): Promise<StoredBlob | undefined> {
    return await postgresBlobs.get(this.pool, blobId);
  }

  async completeBlob(blobId: BlobId): Promise<void> {
    await postgresBlobs.complete(this.pool, blobId);
  }

  async expiredBlobs(now: number, limit: number): Promise<ExpiredBlob[]> {
    return await postgresBlobs.expired(this.pool, now, limit);
  }

  async deleteBlobs(blobIds: readonly BlobId[]): Promise<void> {
    await postgresBlobs.delete(this.pool, blobIds);
  }

  async leaseBudget(
    key: string,
    spec: BucketSpec,
    need: number,
    chunk: number,
  ): Promise<BudgetLease> {
    // One autocommit statement: the function's row lock serializes the nodes for this key only.
    return await postgresBudgets.lease(this.pool, key, spec, need, chunk);
  }

  async close(): Promise<void> {
    this.stores.flush();
    this.acks.flush();
    this.pushReads.flush();
    await this.wakeups.close();
    await this.pool.end();
  }
}
