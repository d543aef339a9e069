import { type BudgetBuckets, LeasedBuckets, LocalBuckets, takeBudgets } from './leased-buckets.ts';
import type { RelayBudgetSpecs } from './options.ts';
import type { Mailbox, RelayStorage } from './storage.ts';
import { countBudgetRefusal } from './metrics.ts';
import { BucketMap, type BucketSpec, type Take } from './token-bucket.ts';

// Which budgets a request spends, in which order. Source budgets (connection,
// address) are spent before the recipient's token is checked, so a stranger
// pays for every try; destination budgets only after, so a stranger without
// the token cannot use up what the recipient's contacts need.
//
// With storage shared by several nodes, the budgets keyed by a target (the
// destination mailbox, the fetched device) are shared too: a sender spreading
// over N nodes would otherwise get N times them. Source budgets stay per
// node: a connection lives on one node, and an address spreading over nodes
// still meets the shared target budgets (docs/relay-operations.md#shared-budgets).

const OK: Take = { ok: true };

/** Spends every budget or none: the first refusal wins and nothing is taken. */
function takeAll(
  side: string,
  parts: readonly (readonly [BucketMap<string>, string, number])[],
): Take {
  for (const [map, key, amount] of parts) {
    const verdict = map.peek(key, amount);
    if (!verdict.ok) {
      countBudgetRefusal(side);
      return verdict;
    }
  }
  for (const [map, key, amount] of parts) map.take(key, amount);
  return OK;
}

/** takeAll for target budgets, which may live in the database. */
async function takeShared(
  side: string,
  parts: readonly (readonly [BudgetBuckets, string, number])[],
): Promise<Take> {
  const verdict = await takeBudgets(parts);
  if (!verdict.ok) countBudgetRefusal(side);
  return verdict;
}

function mailboxKey(mailbox: Mailbox): string {
  return `${mailbox.accountId}.${mailbox.deviceId}`;
}

/** One connection's own budgets. */
export class ConnectionBudget {
  readonly sends: BucketMap<string>;
  readonly bytes: BucketMap<string>;
  private readonly refusals: BucketMap<string>;

  constructor(specs: RelayBudgetSpecs, now: () => number) {
    this.sends = new BucketMap(specs.connectionSends, now);
    this.bytes = new BucketMap(specs.connectionBytes, now);
    this.refusals = new BucketMap(specs.connectionRefusals, now);
  }

  /**
   * Counts `count` refused requests; 0 while within the refusal budget, else
   * how long the connection's reading pauses (until the bucket holds them
   * again, plus up to as much again).
   */
  refused(count: number): number {
    const verdict = this.refusals.take('', count);
    if (verdict.ok) return 0;
    // Up to twice as long, at random: strangers that started together would
    // otherwise all resume together and arrive as one burst every second.
    return verdict.retryAfterMs + Math.floor(Math.random() * verdict.retryAfterMs);
  }
}

/** The relay-wide budgets: per destination mailbox, per client address, per target device. */
export class RelayBudgets {
  private readonly destinationMessages: BudgetBuckets;
  private readonly destinationBytes: BudgetBuckets;
  private readonly addressSends: BucketMap<string>;
  private readonly addressBytes: BucketMap<string>;
  private readonly addressFetches: BucketMap<string>;
  private readonly deviceFetches: BudgetBuckets;
  private readonly accountBlobCreates: BucketMap<string>;
  private readonly addressBlobRequests: BucketMap<string>;

  /** `storage.leaseBudget`, when present, makes the target budgets shared by every node. */
  constructor(
    private readonly specs: RelayBudgetSpecs,
    private readonly now: () => number,
    storage?: Pick<RelayStorage, 'leaseBudget'>,
  ) {
    const lease = storage?.leaseBudget?.bind(storage);
    const target = (name: string, spec: BucketSpec): BudgetBuckets =>
      lease === undefined
        ? new LocalBuckets(new BucketMap(spec, now))
        : new LeasedBuckets(name, spec, lease, now);
    this.destinationMessages = target('destination-messages', specs.destinationMessages);
    this.destinationBytes = target('destination-bytes', specs.destinationBytes);
    this.addressSends = new BucketMap(specs.addressSends, now);
    this.addressBytes = new BucketMap(specs.addressBytes, now);
    this.addressFetches = new BucketMap(specs.addressFetches, now);
    this.deviceFetches = target('device-fetches', specs.deviceFetches);
    this.accountBlobCreates = new BucketMap(specs.accountBlobCreates, now);
    this.addressBlobRequests = new BucketMap(specs.addressBlobRequests, now);
  }

  /** A new connection's own budgets. */
  forConnection(): ConnectionBudget {
    return new ConnectionBudget(this.specs, this.now);
  }

  /**
   * Source side of a submission: the connection's and the address's budgets.
   * `sends` is 1 for an envelope, the recipient count for a multi-recipient send.
   */
  submit(connection: ConnectionBudget, address: string, bytes: number, sends = 1): Take {
    return takeAll('source', [
      [connection.sends, '', sends],
      [connection.bytes, '', bytes],
      [this.addressSends, address, sends],
      [this.addressBytes, address, bytes],
    ]);
  }

  /** Destination side of one envelope whose token was right, for each mailbox it goes to (all or none). */
  async deliver(mailboxes: readonly Mailbox[], bytes: number): Promise<Take> {
    return await takeShared(
      'destination',
      mailboxes.flatMap((mailbox) => {
        const key = mailboxKey(mailbox);
        return [
          [this.destinationMessages, key, 1],
          [this.destinationBytes, key, bytes],
        ] as const;
      }),
    );
  }

  /** A bundle fetch from an address (before the token is checked). */
  fetchFrom(address: string): Take {
    return takeAll('address_fetches', [[this.addressFetches, address, 1]]);
  }

  /** A bundle fetch of a device's keys (after the token was right). */
  async fetchOf(mailbox: Mailbox): Promise<Take> {
    return await takeShared('device_fetches', [[this.deviceFetches, mailboxKey(mailbox), 1]]);
  }

  /** A blob.create of an account (any of its devices). */
  blobCreate(accountId: string): Take {
    return takeAll('blob_creates', [[this.accountBlobCreates, accountId, 1]]);
  }

  /** A blob HTTP request from an address. */
  blobRequest(address: string): Take {
    return takeAll('blob_requests', [[this.addressBlobRequests, address, 1]]);
  }

  /** Forgets full buckets (called from the relay's sweep timer). */
  prune(): void {
    for (const map of [
      this.destinationMessages,
      this.destinationBytes,
      this.addressSends,
      this.addressBytes,
      this.addressFetches,
      this.deviceFetches,
      this.accountBlobCreates,
      this.addressBlobRequests,
    ])
      map.prune();
  }
}
