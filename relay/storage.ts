import type { AccountId } from '../shared/protocol/account-id.ts';
import type { PreKeyBundleData, PublishedKeys } from '../shared/protocol/keys.ts';

// What the relay keeps (docs/relay-protocol.md#what-the-relay-stores), as an
// interface so the server never knows which database holds it. Every method
// returns a Promise even though SQLite answers synchronously: a networked
// database (PostgreSQL) must fit behind the same seam without touching the server.

/** One device's mailbox: envelopes addressed to (account, device). */
export interface Mailbox {
  readonly accountId: AccountId;
  readonly deviceId: number;
}

/** An envelope as stored: the body is opaque ciphertext bytes. */
export interface StoredEnvelope {
  readonly id: string;
  readonly from: AccountId;
  readonly fromDevice: number;
  readonly ctype: 2 | 3;
  readonly body: Uint8Array;
  /** Milliseconds since the epoch, when the relay committed it. */
  readonly receivedAt: number;
}

/** A `send` the relay has accepted, before it has an id. */
export interface NewEnvelope {
  readonly from: AccountId;
  readonly fromDevice: number;
  /** Idempotency key, unique per sender account. */
  readonly clientMessageId: string;
  readonly to: Mailbox;
  readonly ctype: 2 | 3;
  readonly body: Uint8Array;
  readonly receivedAt: number;
}

/** Outcome of storing an envelope. */
export type StoreResult =
  | { readonly kind: 'stored'; readonly envelopeId: string }
  /** The same (sender, clientMessageId) was stored before: its id, no new envelope. */
  | { readonly kind: 'duplicate'; readonly envelopeId: string }
  | { readonly kind: 'mailbox-full' };

/** Outcome of an ack. */
export type AckResult =
  | { readonly kind: 'deleted'; readonly count: number }
  /** Some id belongs to another mailbox; nothing was deleted. */
  | { readonly kind: 'forbidden' };

/** How many one-time keys of each kind a device has left. */
export interface OneTimeKeyCounts {
  readonly preKeys: number;
  readonly kyberPreKeys: number;
}

/** A bundle handed out, and what the fetch left its owner with. */
export interface TakenBundle {
  readonly bundle: PreKeyBundleData;
  readonly remaining: OneTimeKeyCounts;
}

/** The relay's persistent state. Implementations must make each method atomic. */
export interface RelayStorage {
  /** The identity key bound to an account, or undefined if it never authenticated. */
  boundIdentityKey(accountId: AccountId): Promise<Uint8Array | undefined>;
  /** Binds an account to a key unless already bound; returns the key bound now (first writer wins). */
  bindIdentityKey(accountId: AccountId, identityKey: Uint8Array, now: number): Promise<Uint8Array>;
  /** Replaces the signed and last-resort prekeys, adds one-time keys whose ids are not stored yet. */
  publishKeys(keys: PublishedKeys, now: number): Promise<void>;
  /** A bundle for the device, consuming its oldest one-time EC and Kyber keys; undefined without keys. */
  takeBundle(accountId: AccountId, deviceId: number): Promise<TakenBundle | undefined>;
  /** One-time keys left for a device, or undefined if it has published none. */
  oneTimeKeyCounts(accountId: AccountId, deviceId: number): Promise<OneTimeKeyCounts | undefined>;
  /**
   * Stores envelopes durably in one transaction (committed before resolving),
   * each idempotent per (from, clientMessageId); one result per envelope, in order.
   */
  storeEnvelopes(envelopes: readonly NewEnvelope[], mailboxQuota: number): Promise<StoreResult[]>;
  /**
   * Up to `limit` queued envelopes of a mailbox, skipping `exclude`, in push order:
   * senders with the most recent envelope first, arrival order within a sender.
   */
  listQueued(
    mailbox: Mailbox,
    limit: number,
    exclude: ReadonlySet<string>,
  ): Promise<StoredEnvelope[]>;
  /** Deletes acked envelopes of this mailbox; refuses all if any id is in another mailbox. */
  deleteAcked(mailbox: Mailbox, envelopeIds: readonly string[]): Promise<AckResult>;
  /** Envelopes waiting in a mailbox. */
  countQueued(mailbox: Mailbox): Promise<number>;
  /** Deletes envelopes (and idempotency records) received before `cutoff`; returns envelopes deleted. */
  expireBefore(cutoff: number): Promise<number>;
  /** Releases the database; no method may be called afterwards. */
  close(): Promise<void>;
}
