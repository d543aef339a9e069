import type { RelayStorage } from './storage.ts';

/** What a relay server needs; everything but `storage` has the spec's default. */
export interface RelayServerOptions {
  readonly storage: RelayStorage;
  /** Unacked envelopes older than this are deleted (default 30 days). */
  readonly ttlMs?: number;
  /** Envelopes per mailbox before `send` answers MAILBOX_FULL (default 50,000). */
  readonly mailboxQuota?: number;
  /** WebSocket ping interval; two missed pongs close the connection (default 30 s). */
  readonly heartbeatMs?: number;
  /** Time to reach `ready` before the connection is closed with 4002 (default 10 s). */
  readonly authTimeoutMs?: number;
  /** How often expired envelopes are swept (default: a tenth of the TTL, between 100 ms and 1 min). */
  readonly sweepIntervalMs?: number;
  /** Simultaneous authenticated connections per account (default 5). */
  readonly maxConnectionsPerAccount?: number;
  /** Frames per connection per second before RATE_LIMITED (default 500). */
  readonly maxFramesPerSecond?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** Options with every default filled in. */
export type RelaySettings = Required<RelayServerOptions>;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Fills in the defaults of docs/relay-protocol.md#limits. */
export function relaySettings(options: RelayServerOptions): RelaySettings {
  const ttlMs = options.ttlMs ?? 30 * DAY_MS;
  return {
    storage: options.storage,
    ttlMs,
    mailboxQuota: options.mailboxQuota ?? 50_000,
    heartbeatMs: options.heartbeatMs ?? 30_000,
    authTimeoutMs: options.authTimeoutMs ?? 10_000,
    sweepIntervalMs:
      options.sweepIntervalMs ?? Math.min(60_000, Math.max(100, Math.floor(ttlMs / 10))),
    maxConnectionsPerAccount: options.maxConnectionsPerAccount ?? 5,
    maxFramesPerSecond: options.maxFramesPerSecond ?? 500,
    now: options.now ?? Date.now,
  };
}
