import { MAX_BLOB_BYTES } from '../shared/protocol/attachment.ts';
import type { BlobStore } from './blobs/store.ts';
import type { RelayStorage } from './storage.ts';
import type { BucketSpec } from './token-bucket.ts';

// Every knob of the relay, with the defaults docs/relay-protocol.md#budgets
// documents. Defaults are sized so an honest client never meets them; tests
// that start many clients from 127.0.0.1 set the per-address ones explicitly.

/** The token-bucket budgets (docs/relay-protocol.md#budgets). */
export interface RelayBudgetSpecs {
  /** Envelopes into one mailbox. */
  readonly destinationMessages: BucketSpec;
  /** Body bytes into one mailbox (Signal: 128 MiB burst, about 2 KB/s). */
  readonly destinationBytes: BucketSpec;
  /** Envelopes submitted from one client address. */
  readonly addressSends: BucketSpec;
  /** Body bytes submitted from one client address. */
  readonly addressBytes: BucketSpec;
  /** Envelopes submitted on one anonymous connection. */
  readonly connectionSends: BucketSpec;
  /** Body bytes submitted on one anonymous connection. */
  readonly connectionBytes: BucketSpec;
  /**
   * Refused requests on one connection (bad token, over budget...): beyond it
   * the relay stops reading that connection until the bucket refills, so a
   * stranger's flood of refusals costs it time instead of costing everyone CPU.
   */
  readonly connectionRefusals: BucketSpec;
  /** Bundle fetches from one client address. */
  readonly addressFetches: BucketSpec;
  /** Bundle fetches of one device's keys, whoever asks (a token holder cannot drain a stock either). */
  readonly deviceFetches: BucketSpec;
  /** blob.create requests of one account (Signal: 50 per minute or so). */
  readonly accountBlobCreates: BucketSpec;
  /** Blob HTTP requests (HEAD, PATCH, GET) from one client address. */
  readonly addressBlobRequests: BucketSpec;
}

/** What a relay server needs; everything but `storage` has a documented default. */
export interface RelayServerOptions {
  readonly storage: RelayStorage;
  /** Unacked envelopes older than this are deleted (default 30 days). */
  readonly ttlMs?: number;
  /** Envelopes per mailbox before `send` answers MAILBOX_FULL (default 50,000). */
  readonly mailboxQuota?: number;
  /** Envelope body bytes the relay holds in all before STORAGE_FULL (default 1 GiB). */
  readonly maxStorageBytes?: number;
  /** WebSocket ping interval; two missed pongs close the connection (default 30 s). */
  readonly heartbeatMs?: number;
  /** Time from the upgrade to `ready` before the connection is closed with 4002 (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** Time from the TCP (or TLS) connection to a complete upgrade request (default 5 s). */
  readonly upgradeTimeoutMs?: number;
  /** How often expired envelopes are swept (default: a tenth of the TTL, between 100 ms and 1 min). */
  readonly sweepIntervalMs?: number;
  /** Envelopes one sweep step deletes before yielding to intake (default 500). */
  readonly sweepBatch?: number;
  /** Simultaneous account connections per account (default 5). */
  readonly maxConnectionsPerAccount?: number;
  /** Open sockets (any stage) per client address (default 200). */
  readonly maxConnectionsPerAddress?: number;
  /** Frames per connection per second before RATE_LIMITED (default 500). */
  readonly maxFramesPerSecond?: number;
  /** Token-bucket budgets; each one given replaces its default. */
  readonly budgets?: Partial<RelayBudgetSpecs>;
  /** Take the client address from X-Forwarded-For when the peer is loopback (a local reverse proxy). */
  readonly trustProxy?: boolean;
  /** TLS key and certificate (PEM): serve wss:// directly. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Where blob bytes live (docs/relay-protocol.md#blobs); without one, blobs are off. */
  readonly blobStore?: BlobStore;
  /** Largest blob accepted, in bytes (default MAX_BLOB_BYTES: what a 100 MiB attachment encrypts to). */
  readonly maxBlobBytes?: number;
  /** Declared bytes of unexpired blobs one account may hold (default 1 GiB). */
  readonly blobQuotaBytes?: number;
  /** A blob request's socket may be idle this long (headers done, body or reader stalled; default 30 s). */
  readonly blobIdleTimeoutMs?: number;
  /**
   * How often the node asks storage whether an account with a connection here
   * has moved (default 30 s): a move made through another node closes its
   * connections here within this time; one made here closes them at once.
   */
  readonly movedCheckMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** Options with every default filled in (tls stays optional). */
export type RelaySettings = Required<Omit<RelayServerOptions, 'tls' | 'budgets' | 'blobStore'>> & {
  readonly budgets: RelayBudgetSpecs;
  readonly tls: RelayServerOptions['tls'];
  readonly blobStore: BlobStore | undefined;
};

const DAY_MS = 24 * 60 * 60 * 1000;
const MIB = 1024 * 1024;

/** The default budgets (docs/relay-protocol.md#budgets). */
export const DEFAULT_BUDGETS: RelayBudgetSpecs = {
  destinationMessages: { burst: 2_000, perSecond: 2 },
  destinationBytes: { burst: 128 * MIB, perSecond: 2_048 },
  addressSends: { burst: 1_000, perSecond: 50 },
  addressBytes: { burst: 64 * MIB, perSecond: 1 * MIB },
  // 1,000: one message to a group of 1,000 members is 1,000 sends (one per recipient).
  connectionSends: { burst: 1_000, perSecond: 20 },
  connectionBytes: { burst: 16 * MIB, perSecond: 256 * 1024 },
  connectionRefusals: { burst: 20, perSecond: 1 },
  addressFetches: { burst: 100, perSecond: 0.1 },
  deviceFetches: { burst: 20, perSecond: 1 / 60 },
  accountBlobCreates: { burst: 50, perSecond: 1 },
  // A 100 MiB upload cut every few MiB, and downloads resumed as often: far below this.
  addressBlobRequests: { burst: 1_000, perSecond: 10 },
};

/** Fills in the defaults of docs/relay-protocol.md#budgets and #limits. */
export function relaySettings(options: RelayServerOptions): RelaySettings {
  const ttlMs = options.ttlMs ?? 30 * DAY_MS;
  return {
    storage: options.storage,
    ttlMs,
    mailboxQuota: options.mailboxQuota ?? 50_000,
    maxStorageBytes: options.maxStorageBytes ?? 1024 * MIB,
    heartbeatMs: options.heartbeatMs ?? 30_000,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    upgradeTimeoutMs: options.upgradeTimeoutMs ?? 5_000,
    sweepIntervalMs:
      options.sweepIntervalMs ?? Math.min(60_000, Math.max(100, Math.floor(ttlMs / 10))),
    sweepBatch: options.sweepBatch ?? 500,
    movedCheckMs: options.movedCheckMs ?? 30_000,
    maxConnectionsPerAccount: options.maxConnectionsPerAccount ?? 5,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 200,
    maxFramesPerSecond: options.maxFramesPerSecond ?? 500,
    budgets: { ...DEFAULT_BUDGETS, ...options.budgets },
    trustProxy: options.trustProxy ?? false,
    tls: options.tls,
    blobStore: options.blobStore,
    maxBlobBytes: options.maxBlobBytes ?? MAX_BLOB_BYTES,
    blobQuotaBytes: options.blobQuotaBytes ?? 1024 * MIB,
    blobIdleTimeoutMs: options.blobIdleTimeoutMs ?? 30_000,
    now: options.now ?? Date.now,
  };
}
