import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { log } from '../log.ts';
import type { Arrival, PollSlice } from '../storage.ts';
import {
  carriedItem,
  mailboxItem,
  parsePayload,
  sealPayload,
  type WakeItem,
} from './wake-payload.ts';

// Cross-node wakeups (docs/relay-operations.md#cross-node-delivery): a node
// that stored envelopes tells the others which mailboxes have new mail, with
// NOTIFY on one channel, after its commit and batched (never inside the insert
// transaction: NOTIFY takes a cluster-wide lock held through the commit's
// fsync). A notification can be lost (a node dies between commit and NOTIFY,
// the LISTEN connection drops): every (re)LISTEN rescans all local mailboxes,
// a self-heartbeat detects a silently dead LISTEN connection, and the relay
// polls slowly anyway. A lost wakeup delays mail; it never loses it.

/** The channel every node LISTENs on. */
export const WAKE_CHANNEL = 'sotto_relay_wake';
/** A batch goes out this long after its first mailbox at the latest. */
const BATCH_MS = 5;
/** NOTIFY payloads must stay under 8000 bytes (the node id and the MAC take under 40). */
const MAX_PAYLOAD = 7_000;
/** Self-heartbeat period, and how long without one means the LISTEN connection is dead. */
const HEARTBEAT_MS = 5_000;
const HEARTBEAT_DEAD_MS = 15_000;
/** The slow poll: every local mailbox is re-read about this often whatever arrives. */
const POLL_MS = 30_000;
/**
 * ... one slice at a time: re-reading all of them at once made a burst of one
 * query per connection (10,000 on a full node) that queued every delivery
 * behind it for seconds.
 */
const POLL_SLICES = 30;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2_000;

/** What a wakeup names: some mailboxes (with their envelopes when carried), every local one (after a reconnect: rescan), or a slice of the slow poll. */
export type Wakeup = readonly Arrival[] | 'all' | PollSlice;

/** A stored envelope waiting to be announced: its mailbox's plain item, and its `+` item if it can ride. */
type Queued = { readonly plain: string; readonly carried: string | undefined };

/**
 * The items of a batch, grouped in payloads under MAX_PAYLOAD: per mailbox its
 * plain item, and its envelopes' `+` items only if every one of them can be
 * carried (else the receiver must read anyway); a mailbox never straddles two
 * payloads.
 */
function payloadItems(batch: readonly Queued[]): string[][] {
  const groups = new Map<string, { plain: string; carried: (string | undefined)[] }>();
  for (const { plain, carried } of batch) {
    const group = groups.get(plain) ?? { plain, carried: [] };
    group.carried.push(carried);
    groups.set(plain, group);
  }
  const payloads: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const { plain, carried } of groups.values()) {
    let items = carried.every((item) => item !== undefined) ? [plain, ...carried] : [plain];
    let size = items.reduce((sum, item) => sum + item.length + 1, 0);
    if (size > MAX_PAYLOAD) {
      items = [plain];
      size = plain.length + 1;
    }
    if (bytes + size > MAX_PAYLOAD) {
      payloads.push(current);
      current = [];
      bytes = 0;
    }
    current.push(...items);
    bytes += size;
  }
  if (current.length > 0) payloads.push(current);
  return payloads;
}

/** One node's LISTEN connection and its NOTIFY outbox. */
export class Wakeups {
  /** This node's id in payloads (its own notifications are ignored: it woke its sockets itself). */
  readonly nodeId = randomBytes(6).toString('base64url');
  private listener: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private outbox: Queued[] = [];
  private outboxBytes = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private lastHeartbeat = Date.now();
  private closed = false;
  /** Notifications received (for tests: a duplicated LISTEN handler would double it). */
  received = 0;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly pool: pg.Pool,
    /** Signs and checks carried envelopes (wake-payload.ts). */
    private readonly key: Buffer,
    private readonly onWake: (wakeup: Wakeup) => void,
  ) {}

  /** Connects and LISTENs (resolves once live); keeps reconnecting until close(). */
  async start(): Promise<void> {
    await this.connect();
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    let slice = Math.floor(Math.random() * POLL_SLICES);
    const pollNext = () => {
      // Jitter, so nodes started together do not poll in step.
      const slot = POLL_MS / POLL_SLICES;
      this.poll = setTimeout(
        () => {
          this.onWake({ pollSlice: slice, of: POLL_SLICES });
          slice = (slice + 1) % POLL_SLICES;
          pollNext();
        },
        slot + Math.random() * (slot / 3),
      );
      this.poll.unref();
    };
    pollNext();
  }

  /** Queues a wakeup for these stored envelopes (sent within BATCH_MS, after the caller's commit). */
  publish(items: readonly WakeItem[]): void {
    for (const { mailbox, envelope } of items) {
      const queued = {
        plain: mailboxItem(mailbox),
        carried: envelope === undefined ? undefined : carriedItem(mailbox, envelope),
      };
      const bytes = (queued.carried ?? queued.plain).length + 1;
      if (this.outboxBytes + bytes > MAX_PAYLOAD) this.flush();
      this.outbox.push(queued);
      this.outboxBytes += bytes;
    }
    this.flushTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /** Stops listening and sends what is queued. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.poll);
    this.flush();
    await this.connecting;
    await this.listener?.end().catch(() => undefined);
  }

  /**
   * Sends the queued batch as autocommit NOTIFYs, each its own tiny
   * transaction committed without waiting for its WAL flush: a NOTIFY's
   * commit writes a commit record (the notification queue needs its
   * transaction id), and a synchronous commit waited for the flush while
   * holding the queue's cluster-wide lock. Nothing is lost that was not lost
   * before: notifications do not survive a PostgreSQL crash anyway, and the
   * backstops cover them.
   */
  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    for (const items of payloadItems(batch))
      // Lost on failure by design: the receivers' backstops (rescan, poll) cover it.
      this.pool
        .query({
          name: 'relay-notify',
          text: "SELECT pg_notify($1, $2), set_config('synchronous_commit', 'off', true)",
          values: [WAKE_CHANNEL, sealPayload(this.nodeId, items, this.key)],
        })
        .catch(() => log.warn('wakeup.notify_failed'));
  }

  private beat(): void {
    if (Date.now() - this.lastHeartbeat > HEARTBEAT_DEAD_MS && this.listener !== undefined) {
      log.warn('wakeup.heartbeat_missed');
      this.drop(this.listener);
    }
    this.pool
      .query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, `${this.nodeId} hb`])
      .catch(() => log.warn('wakeup.heartbeat_failed'));
  }

  /** Forgets a broken LISTEN client and starts the (single) reconnect loop. */
  private drop(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    if (!this.closed) void this.connect();
  }

  /** Single-flight: concurrent callers share one reconnect loop, so listeners are never doubled. */
  private connect(): Promise<void> {
    this.connecting ??= this.loop().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async loop(): Promise<void> {
    let delay = RECONNECT_MIN_MS;
    let first = true;
    while (!this.closed) {
      const client = new pg.Client(this.config);
      // Before connect(): an error event without a handler would crash the process.
      client.on('error', () => this.drop(client));
      client.on('end', () => this.drop(client));
      try {
        await client.connect();
        client.on('notification', (message) => {
          this.received += 1;
          this.deliver(message);
        });
        await client.query(`LISTEN ${WAKE_CHANNEL}`);
        this.listener = client;
        this.lastHeartbeat = Date.now();
        if (!first) log.warn('wakeup.reconnected');
        // Anything stored while we were not listening: rescan every local mailbox.
        this.onWake('all');
        return;
      } catch {
        client.removeAllListeners();
        client.on('error', () => undefined);
        await client.end().catch(() => undefined);
        first = false;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(RECONNECT_MAX_MS, delay * 2);
      }
    }
  }

  private deliver(message: pg.Notification): void {
    const payload = message.payload ?? '';
    // Our own (checked before the MAC, which costs more than this).
    if (payload.startsWith(`${this.nodeId} `)) {
      this.lastHeartbeat = Date.now();
      return;
    }
    const { arrivals } = parsePayload(payload, this.key, Date.now());
    if (arrivals.length > 0) this.onWake(arrivals);
  }
}
