import { Worker } from 'node:worker_threads';
import type { AccountId } from '../shared/protocol/account-id.ts';
import type { BlobId } from '../shared/protocol/attachment.ts';
import type { PublishedKeys } from '../shared/protocol/keys.ts';
import { relayIdSchema, type RelayId } from '../shared/relay/protocol.ts';
import { log } from './log.ts';
import { NewerRelayDataError, ProtocolOneDataError } from './sqlite-schema.ts';
import type { FromStorageWorker, StorageMethod } from './storage-worker.ts';
import type {
  AccountRecord,
  AckResult,
  DeviceRegistration,
  ExpiredBlob,
  KeyIds,
  Mailbox,
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
} from './storage.ts';

/** Accounts whose record stays cached (token checks of every anonymous send read it). */
const ACCOUNT_CACHE_SIZE = 10_000;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type QueuedStore = {
  readonly envelopes: readonly NewEnvelope[];
  readonly resolve: (results: StoreResult[]) => void;
  readonly reject: (error: Error) => void;
};

function spawn(dataDir: string): Worker {
  const url = new URL(
    import.meta.url.endsWith('.ts') ? './storage-worker.ts' : './storage-worker.js',
    import.meta.url,
  );
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData: { dataDir } });
  // From source: workers do not inherit the tsx loader, so register it inside first.
  // Resolved here: a worker's bare imports would resolve from the working directory.
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: { dataDir }, execArgv: [] });
}

/**
 * RelayStorage whose SQLite database lives in a worker thread
 * (storage-worker.ts), so fsync waits never stall the event loop that serves
 * every connection. Two things make a flood cheap: stores made in the same
 * event-loop turn are committed together (one transaction, one fsync), and
 * account records are cached here (this object sees every write that changes
 * one, so the cache cannot go stale within this process).
 */
export class WorkerRelayStorage implements RelayStorage {
  private readonly pending = new Map<number, Pending>();
  private readonly accounts = new Map<AccountId, AccountRecord | undefined>();
  private stores: QueuedStore[] = [];
  private storeLimits: StoreLimits | undefined;
  private nextId = 1;
  /** Set once the worker died: every later call fails at once instead of waiting forever. */
  private failed = false;

  private constructor(
    private readonly worker: Worker,
    readonly relayId: RelayId,
  ) {
    worker.on('message', (message: FromStorageWorker) => {
      if (message.kind !== 'result') return;
      const call = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) call?.resolve(message.value);
      else call?.reject(new Error('storage failure'));
    });
    const fail = () => {
      this.failed = true;
      for (const call of this.pending.values()) call.reject(new Error('storage worker failed'));
      this.pending.clear();
    };
    worker.on('error', () => {
      log.error('storage.worker_failed');
      fail();
    });
    // After close() the worker exits with nothing pending; any other exit is a failure.
    worker.on('exit', fail);
  }

  /** Starts the worker and opens `<dataDir>/relay.db` there; rejects with ProtocolOneDataError for protocol-1 data. */
  static async open(dataDir: string): Promise<WorkerRelayStorage> {
    const worker = spawn(dataDir);
    const first = await new Promise<FromStorageWorker>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (first.kind === 'opened')
      return new WorkerRelayStorage(worker, relayIdSchema.parse(first.relayId));
    await worker.terminate();
    if (first.kind === 'open-failed' && first.reason === 'protocol-1')
      throw new ProtocolOneDataError();
    if (first.kind === 'open-failed' && first.reason === 'newer') throw new NewerRelayDataError();
    throw Object.assign(new Error('cannot open relay.db'), {
      code: first.kind === 'open-failed' ? first.code : 'error',
    });
  }

  async account(accountId: AccountId): Promise<AccountRecord | undefined> {
    if (this.accounts.has(accountId)) return this.accounts.get(accountId);
    const record = (await this.call('account', accountId)) as AccountRecord | undefined;
    // Unknown accounts are not cached: a stranger's random ids must not evict real ones.
    if (record !== undefined) this.remember(accountId, record);
    return record;
  }

  async bindIdentityKey(
    accountId: AccountId,
    identityKey: Uint8Array,
    now: number,
  ): Promise<Uint8Array> {
    this.accounts.delete(accountId);
    return (await this.call('bindIdentityKey', accountId, identityKey, now)) as Uint8Array;
  }

  async setTokenHash(accountId: AccountId, tokenHash: Uint8Array): Promise<void> {
    this.accounts.delete(accountId);
    await this.call('setTokenHash', accountId, tokenHash);
    this.accounts.delete(accountId);
  }

  async markMoved(from: AccountId, now: number): Promise<void> {
    this.accounts.delete(from);
    await this.call('markMoved', from, now);
    this.accounts.delete(from);
  }

  async movedAmong(accountIds: readonly AccountId[]): Promise<AccountId[]> {
    return (await this.call('movedAmong', accountIds)) as AccountId[];
  }

  async publishKeys(keys: PublishedKeys, now: number, maxStored: number): Promise<PublishResult> {
    return (await this.call('publishKeys', keys, now, maxStored)) as PublishResult;
  }

  async takeBundle(
    accountId: AccountId,
    deviceId: number,
    now: number,
  ): Promise<TakenBundle | undefined> {
    return (await this.call('takeBundle', accountId, deviceId, now)) as TakenBundle | undefined;
  }

  async forgetTakenKeys(cutoff: number, limit: number): Promise<number> {
    return (await this.call('forgetTakenKeys', cutoff, limit)) as number;
  }

  async oneTimeKeyCounts(
    accountId: AccountId,
    deviceId: number,
  ): Promise<OneTimeKeyCounts | undefined> {
    return (await this.call('oneTimeKeyCounts', accountId, deviceId)) as
      OneTimeKeyCounts | undefined;
  }

  async keyIds(accountId: AccountId, deviceId: number): Promise<KeyIds> {
    return (await this.call('keyIds', accountId, deviceId)) as KeyIds;
  }

  async devicesOf(accountIds: readonly AccountId[]): Promise<DeviceRegistration[]> {
    return (await this.call('devicesOf', accountIds)) as DeviceRegistration[];
  }

  storeEnvelopes(envelopes: readonly NewEnvelope[], limits: StoreLimits): Promise<StoreResult[]> {
    // A group shares one set of limits: different ones start a new group.
    const current = this.storeLimits;
    if (
      this.stores.length > 0 &&
      (current?.mailboxQuota !== limits.mailboxQuota ||
        current.maxStorageBytes !== limits.maxStorageBytes)
    )
      this.flushStores();
    return new Promise((resolve, reject) => {
      if (this.stores.length === 0) setImmediate(() => this.flushStores());
      this.stores.push({ envelopes, resolve, reject });
      this.storeLimits = limits;
    });
  }

  async listQueued(mailbox: Mailbox, afterSeq: number, limit: number): Promise<StoredEnvelope[]> {
    return (await this.call('listQueued', mailbox, afterSeq, limit)) as StoredEnvelope[];
  }

  async deleteAcked(mailbox: Mailbox, envelopeIds: readonly string[]): Promise<AckResult> {
    return (await this.call('deleteAcked', mailbox, envelopeIds)) as AckResult;
  }

  async countQueued(mailbox: Mailbox): Promise<number> {
    return (await this.call('countQueued', mailbox)) as number;
  }

  async expireBefore(cutoff: number, limit: number): Promise<number> {
    return (await this.call('expireBefore', cutoff, limit)) as number;
  }

  async createBlob(
    blob: NewBlob,
    quotaBytes: number,
    now: number,
  ): Promise<'created' | 'over-quota'> {
    return (await this.call('createBlob', blob, quotaBytes, now)) as 'created' | 'over-quota';
  }

  async blob(blobId: BlobId): Promise<StoredBlob | undefined> {
    return (await this.call('blob', blobId)) as StoredBlob | undefined;
  }

  async completeBlob(blobId: BlobId): Promise<void> {
    await this.call('completeBlob', blobId);
  }

  async expiredBlobs(now: number, limit: number): Promise<ExpiredBlob[]> {
    return (await this.call('expiredBlobs', now, limit)) as ExpiredBlob[];
  }

  async deleteBlobs(blobIds: readonly BlobId[]): Promise<void> {
    await this.call('deleteBlobs', blobIds);
  }

  async close(): Promise<void> {
    if (this.stores.length > 0) this.flushStores();
    await this.call('close');
    await this.worker.terminate();
  }

  /** Commits every store queued this turn in one transaction and hands each caller its share. */
  private flushStores(): void {
    const batch = this.stores;
    const limits = this.storeLimits;
    this.stores = [];
    if (batch.length === 0 || limits === undefined) return;
    const all = batch.flatMap((store) => store.envelopes);
    this.call('storeEnvelopes', all, limits).then(
      (value) => {
        const results = value as StoreResult[];
        let at = 0;
        for (const store of batch) {
          store.resolve(results.slice(at, at + store.envelopes.length));
          at += store.envelopes.length;
        }
      },
      (error: Error) => batch.forEach((store) => store.reject(error)),
    );
  }

  private remember(accountId: AccountId, record: AccountRecord): void {
    if (this.accounts.size >= ACCOUNT_CACHE_SIZE) {
      const oldest = this.accounts.keys().next();
      if (!oldest.done) this.accounts.delete(oldest.value);
    }
    this.accounts.set(accountId, record);
  }

  private call(method: StorageMethod, ...args: unknown[]): Promise<unknown> {
    if (this.failed) return Promise.reject(new Error('storage worker failed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args });
    });
  }
}
