import type { AccountId } from '../shared/protocol/account-id.ts';
import type { BlobId } from '../shared/protocol/attachment.ts';
import type { PreKeyBundleData, PublishedKeys } from '../shared/protocol/keys.ts';
import type { RelayId } from '../shared/relay/protocol.ts';
import type { BucketSpec } from './token-bucket.ts';

// What the relay keeps (docs/relay-protocol.md#what-the-relay-stores), as an
// interface so the server never knows which database holds it. Every method
// returns a Promise even though SQLite answers synchronously: a networked
// database (PostgreSQL) must fit behind the same seam without touching the server.

/** One device's mailbox: envelopes addressed to (account, device). */
export interface Mailbox {
  readonly accountId: AccountId;
  readonly deviceId: number;
}

/** An envelope as stored: opaque sealed bytes, no sender. */
export interface StoredEnvelope {
  /** Arrival order within the relay (a push cursor). */
  readonly seq: number;
  readonly id: string;
  readonly body: Uint8Array;
  /** Milliseconds since the epoch, when the relay committed it. */
  readonly receivedAt: number;
}

/** A submission the relay has accepted (token and budgets checked), before it has an id. */
export interface NewEnvelope {
  /** Idempotency key, unique per mailbox while the envelope is queued. */
  readonly clientMessageId: string;
  readonly to: Mailbox;
  readonly body: Uint8Array;
  readonly receivedAt: number;
  /**
   * SHA-256 of the delivery token the sender presented: when set, the store
   * checks it against the account in its own transaction ('bad-token',
   * 'moved'), so the relay may have accepted the token from a cached row.
   */
  readonly tokenHash?: Uint8Array;
}

/** Bounds a store must respect, checked inside its transaction. */
export interface StoreLimits {
  /** Envelopes per mailbox. */
  readonly mailboxQuota: number;
  /** Bytes of envelope bodies the whole relay may hold. */
  readonly maxStorageBytes: number;
}

/** Outcome of storing an envelope. */
export type StoreResult =
  /** seq: its place in the mailbox, if the storage tells (then a push window may push it from memory). */
  | { readonly kind: 'stored'; readonly envelopeId: string; readonly seq?: number }
  /** The same (mailbox, clientMessageId) is still queued: its id, no new envelope. */
  | { readonly kind: 'duplicate'; readonly envelopeId: string }
  | { readonly kind: 'mailbox-full' }
  | { readonly kind: 'storage-full' }
  /** tokenHash was set and is not the account's (or there is no such account). */
  | { readonly kind: 'bad-token' }
  /** tokenHash was the account's, and the account has moved. */
  | { readonly kind: 'moved' };

/** Outcome of an ack. */
export type AckResult =
  | { readonly kind: 'deleted'; readonly count: number }
  /** Some id belongs to another mailbox; nothing was deleted. */
  | { readonly kind: 'forbidden' };

/** What the relay knows about an account. */
export interface AccountRecord {
  /** The bound identity key (serialized). */
  readonly identityKey: Uint8Array;
  /** SHA-256 of the registered delivery token, if any. */
  readonly tokenHash: Uint8Array | undefined;
  readonly moved: boolean;
}

/** How many one-time keys of each kind a device has left. */
export interface OneTimeKeyCounts {
  readonly preKeys: number;
  readonly kyberPreKeys: number;
}

/** The key ids a device's stock holds (keys.status). */
export interface KeyIds {
  readonly preKeyIds: number[];
  readonly kyberPreKeyIds: number[];
  readonly signedPreKeyId: number | null;
  readonly lastResortKyberPreKeyId: number | null;
}

/** Outcome of a key publish; 'moved': the account moved, nothing stored (a publish racing the move). */
export type PublishResult = 'ok' | 'too-many-keys' | 'moved';

/** A bundle handed out, and what the fetch left its owner with. */
export interface TakenBundle {
  readonly bundle: PreKeyBundleData;
  readonly remaining: OneTimeKeyCounts;
}

/** A device that published keys, with the registration id it published (multi-recipient sends check both). */
export interface DeviceRegistration {
  readonly accountId: AccountId;
  readonly deviceId: number;
  readonly registrationId: number;
}

/** A blob upload the relay accepted (blob.create), before its row exists. */
export interface NewBlob {
  /** The capability: 16 random bytes, base64url (shared/protocol/attachment.ts). */
  readonly blobId: BlobId;
  /** The uploading account (for its quota only; never told to downloaders). */
  readonly accountId: AccountId;
  /** Where the BlobStore keeps the bytes (relay/blobs/store.ts); not the blob id. */
  readonly storageKey: string;
  /** SHA-256 of the upload token. */
  readonly tokenHash: Uint8Array;
  /** Declared length in bytes (what counts against the quota). */
  readonly length: number;
  /** When the blob is deleted, finished or not (ms since the epoch). */
  readonly expiresAt: number;
}

/** A blob's row as HEAD, PATCH and GET need it. */
export interface StoredBlob {
  readonly storageKey: string;
  readonly tokenHash: Uint8Array;
  readonly length: number;
  readonly expiresAt: number;
  /** True once every byte arrived (only complete blobs are served). */
  readonly complete: boolean;
}

/** An expired blob the sweep deletes: its bytes first, then its row. */
export interface ExpiredBlob {
  readonly blobId: BlobId;
  readonly storageKey: string;
}

/**
 * Envelopes stored in a mailbox, as a wakeup tells it: with the envelopes
 * themselves (their seqs in order) when the storer knew them and they are
 * trustworthy, so a push window can push them without reading them back.
 */
export interface Arrival {
  readonly mailbox: Mailbox;
  readonly envelopes?: readonly StoredEnvelope[];
}

/** One slice of the slow poll: re-read the local mailboxes whose pollSliceOf(mailbox, of) is pollSlice. */
export interface PollSlice {
  readonly pollSlice: number;
  readonly of: number;
}

/** A mailbox that holds envelopes, and the seq of its newest one (the slow poll's answer). */
export interface NewestQueued {
  readonly mailbox: Mailbox;
  readonly seq: number;
}

/** Which of `of` poll slices a mailbox falls in (stable, spread evenly by the account id's random bits). */
export function pollSliceOf(mailbox: Mailbox, of: number): number {
  return (Number.parseInt(mailbox.accountId.slice(-8), 16) + mailbox.deviceId) % of;
}

/** Tokens a node leased from a shared budget, and what the shared bucket still holds. */
export interface BudgetLease {
  readonly granted: number;
  readonly remaining: number;
}

/**
 * How long the relay remembers a one-time key id it handed out. The client
 * allocates ids consecutively in a 24-bit space and re-publishes a batch
 * within minutes; it keeps a handed-out key's private half this long too
 * (GRACE_MS), so a PreKey message made from it later fails anyway.
 */
export const TAKEN_KEY_MEMORY_MS = 30 * 24 * 60 * 60 * 1000;

/** The relay's persistent state. Implementations must make each method atomic. */
export interface RelayStorage {
  /** This relay's identifier, created with its data (base64url of 16 random bytes). */
  readonly relayId: RelayId;
  /** What is known about an account, or undefined if it never logged in. */
  account(accountId: AccountId): Promise<AccountRecord | undefined>;
  /** Binds an account to a key unless already bound; returns the key bound now (first writer wins). */
  bindIdentityKey(accountId: AccountId, identityKey: Uint8Array, now: number): Promise<Uint8Array>;
  /** Replaces the account's delivery token hash. */
  setTokenHash(accountId: AccountId, tokenHash: Uint8Array): Promise<void>;
  /** Marks `from` as moved and deletes its keys; its token hash stays (for the moved answer only). */
  markMoved(from: AccountId, now: number): Promise<void>;
  /** Of these accounts, the ones that have moved (a node's check of its open connections). */
  movedAmong(accountIds: readonly AccountId[]): Promise<AccountId[]>;
  /**
   * Replaces the signed and last-resort prekeys and adds one-time keys whose
   * ids are neither stored nor handed out within TAKEN_KEY_MEMORY_MS (a
   * retried or replayed publish never brings a taken key back); only keys
   * that can still be handed out count; 'too-many-keys' (nothing stored) if that would
   * leave more than `maxStored` one-time keys of a kind; 'moved' (nothing
   * stored) if the account has moved, so a publish that raced markMoved
   * never leaves keys behind it.
   */
  publishKeys(keys: PublishedKeys, now: number, maxStored: number): Promise<PublishResult>;
  /**
   * A bundle for the device, consuming its oldest one-time EC and Kyber keys
   * and remembering their ids as taken at `now`; undefined without keys.
   */
  takeBundle(accountId: AccountId, deviceId: number, now: number): Promise<TakenBundle | undefined>;
  /** Forgets at most `limit` handed-out one-time key ids taken before `cutoff`; returns how many. */
  forgetTakenKeys(cutoff: number, limit: number): Promise<number>;
  /** One-time keys left for a device, or undefined if it has published none. */
  oneTimeKeyCounts(accountId: AccountId, deviceId: number): Promise<OneTimeKeyCounts | undefined>;
  /** The ids of the keys the relay holds for a device. */
  keyIds(accountId: AccountId, deviceId: number): Promise<KeyIds>;
  /** Every device of these accounts that has published keys (one read for a whole group send). */
  devicesOf(accountIds: readonly AccountId[]): Promise<DeviceRegistration[]>;
  /**
   * Stores envelopes durably in one transaction (committed before resolving),
   * each idempotent per (mailbox, clientMessageId); one result per envelope, in order.
   */
  storeEnvelopes(envelopes: readonly NewEnvelope[], limits: StoreLimits): Promise<StoreResult[]>;
  /** Up to `limit` queued envelopes of a mailbox that arrived after `afterSeq`, in arrival order. */
  listQueued(mailbox: Mailbox, afterSeq: number, limit: number): Promise<StoredEnvelope[]>;
  /** Deletes acked envelopes of this mailbox; refuses all if any id is in another mailbox. */
  deleteAcked(mailbox: Mailbox, envelopeIds: readonly string[]): Promise<AckResult>;
  /** Envelopes waiting in a mailbox (a maintained counter). */
  countQueued(mailbox: Mailbox): Promise<number>;
  /** Deletes at most `limit` envelopes received before `cutoff`; returns how many. */
  expireBefore(cutoff: number, limit: number): Promise<number>;
  /**
   * Records a new blob unless the account's unexpired blobs (declared
   * lengths, complete or not, as of `now`) plus this one would exceed
   * `quotaBytes`; checked and inserted atomically, so racing creates cannot
   * overshoot the quota.
   */
  createBlob(blob: NewBlob, quotaBytes: number, now: number): Promise<'created' | 'over-quota'>;
  /** A blob's row, or undefined if unknown (expired rows are returned until swept: callers check expiresAt). */
  blob(blobId: BlobId): Promise<StoredBlob | undefined>;
  /** Marks a blob complete (every byte is durable in the BlobStore). */
  completeBlob(blobId: BlobId): Promise<void>;
  /** Up to `limit` blobs whose expiresAt is at or before `now`. */
  expiredBlobs(now: number, limit: number): Promise<ExpiredBlob[]>;
  /** Deletes these blobs' rows (the sweep deleted their bytes first). */
  deleteBlobs(blobIds: readonly BlobId[]): Promise<void>;
  /**
   * For storage shared by several relay nodes: calls `listener` when another
   * node stored envelopes for these mailboxes, with 'all' when every local
   * mailbox must be re-read (a wakeup may have been missed), or with one
   * slice of the slow poll. Absent for storage only this process writes (the
   * process wakes its own connections).
   */
  onEnvelopesArrived?(listener: (wakeup: readonly Arrival[] | 'all' | PollSlice) => void): void;
  /**
   * For storage shared by several relay nodes (the slow poll and the rescan
   * after a missed wakeup): which of these mailboxes hold envelopes, with the
   * seq of each one's newest, in one read for all of them, so a node re-reads
   * only the mailboxes with something past their connections' cursors.
   */
  newestQueued?(mailboxes: readonly Mailbox[]): Promise<NewestQueued[]>;
  /**
   * For storage shared by several relay nodes: takes tokens from the bucket
   * `key` that every node shares (refilled by the database's clock): at least
   * `need` and up to `chunk`, or none (granted 0) if it holds fewer than
   * `need`. Absent when one process owns the storage (its buckets stay in memory).
   */
  leaseBudget?(key: string, spec: BucketSpec, need: number, chunk: number): Promise<BudgetLease>;
  /** Releases the database; no method may be called afterwards. */
  close(): Promise<void>;
}
