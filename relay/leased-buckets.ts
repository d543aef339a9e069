import type { BudgetLease } from './storage.ts';
import { type BucketMap, type BucketSpec, type Take } from './token-bucket.ts';

// Target budgets (per recipient device) when several nodes share one database: a node leases
// tokens from the bucket every node shares (storage.leaseBudget) in chunks
// and spends them locally, so the database sees one statement per chunk, not
// per envelope. Tokens leased are gone from the shared bucket, so all nodes
// together never accept more than one bucket allows; the cost is that tokens
// idle in one node's lease are refused on the others (at most a chunk each).

/** Tokens one lease asks for beyond the request: this share of the burst. */
const CHUNK_SHARE = 1 / 16;
/** A lease unused this long is dropped (its tokens are not returned: erring against the sender). */
const LEASE_IDLE_MS = 60_000;
/** How long a refusal is answered from memory before the shared bucket is asked again. */
const REFUSAL_MEMORY_MS = 1_000;

/** A budget's buckets, whichever process keeps them; `takeBudgets` spends several all-or-nothing. */
export interface BudgetBuckets {
  /** Takes `amount` tokens for `key` (at once, so no other request can take them meanwhile), or says when to retry. */
  reserve(key: string, amount: number): Promise<Take>;
  /** Gives back tokens `reserve` took for a request another budget refused. */
  release(key: string, amount: number): void;
  /** Forgets state that equals a fresh bucket. */
  prune(): void;
}

/** The in-memory buckets of a relay that owns its storage. */
export class LocalBuckets implements BudgetBuckets {
  constructor(private readonly map: BucketMap<string>) {}

  reserve(key: string, amount: number): Promise<Take> {
    return Promise.resolve(this.map.take(key, amount));
  }

  release(key: string, amount: number): void {
    this.map.refund(key, amount);
  }

  prune(): void {
    this.map.prune();
  }
}

type Lease = (key: string, spec: BucketSpec, need: number, chunk: number) => Promise<BudgetLease>;

/** Buckets shared by every node through the database, spent from local leases. */
export class LeasedBuckets implements BudgetBuckets {
  private readonly held = new Map<string, { tokens: number; usedAt: number }>();
  private readonly leasing = new Map<string, Promise<void>>();
  private readonly refusedUntil = new Map<string, { until: number; retryAt: number }>();
  private readonly chunk: number;

  constructor(
    private readonly name: string,
    private readonly spec: BucketSpec,
    private readonly lease: Lease,
    private readonly now: () => number,
  ) {
    this.chunk = Math.max(1, Math.floor(spec.burst * CHUNK_SHARE));
  }

  async reserve(key: string, amount: number): Promise<Take> {
    for (;;) {
      if ((this.held.get(key)?.tokens ?? 0) >= amount) return this.claim(key, amount);
      const refused = this.refusedUntil.get(key);
      if (refused !== undefined && refused.until > this.now())
        return { ok: false, retryAfterMs: Math.max(1, refused.retryAt - this.now()) };
      // One lease per key at a time on this node: requests that arrive meanwhile
      // wait for it and spend what it brought, instead of racing it to the
      // database and being refused while its tokens are on the way.
      const pending = this.leasing.get(key);
      if (pending === undefined) break;
      await pending;
    }
    const leased = this.leaseFor(key, amount);
    // Waiters only need to know it settled; the failure itself goes to this request's caller.
    this.leasing.set(
      key,
      leased.then(
        () => undefined,
        () => undefined,
      ),
    );
    try {
      return await leased;
    } finally {
      this.leasing.delete(key);
    }
  }

  private async leaseFor(key: string, amount: number): Promise<Take> {
    const local = this.held.get(key)?.tokens ?? 0;
    const { granted, remaining } = await this.lease(
      `${this.name}:${key}`,
      this.spec,
      amount - local,
      this.chunk,
    );
    const entry = this.held.get(key) ?? { tokens: 0, usedAt: this.now() };
    entry.tokens += granted;
    entry.usedAt = this.now();
    if (entry.tokens > 0) this.held.set(key, entry);
    if (entry.tokens >= amount) return this.claim(key, amount);
    const missing = Math.min(amount, this.spec.burst) - entry.tokens - Math.max(0, remaining);
    const retryAfterMs = Math.max(
      1,
      this.spec.perSecond > 0 ? Math.ceil((missing * 1000) / this.spec.perSecond) : 3_600_000,
    );
    // An exhausted bucket is refused here for a while without asking the
    // database again, so a flood at a full mailbox costs no queries.
    this.refusedUntil.set(key, {
      until: this.now() + Math.min(retryAfterMs, REFUSAL_MEMORY_MS),
      retryAt: this.now() + retryAfterMs,
    });
    return { ok: false, retryAfterMs };
  }

  release(key: string, amount: number): void {
    const entry = this.held.get(key) ?? { tokens: 0, usedAt: this.now() };
    entry.tokens += amount;
    this.held.set(key, entry);
  }

  /** Takes tokens the lease holds (the caller checked there are enough). */
  private claim(key: string, amount: number): Take {
    const entry = this.held.get(key);
    if (entry !== undefined) {
      entry.tokens -= amount;
      entry.usedAt = this.now();
    }
    return { ok: true };
  }

  prune(): void {
    const cutoff = this.now() - LEASE_IDLE_MS;
    for (const [key, entry] of this.held)
      if (entry.usedAt < cutoff || entry.tokens <= 0) this.held.delete(key);
    for (const [key, refused] of this.refusedUntil)
      if (refused.until <= this.now()) this.refusedUntil.delete(key);
  }
}

/**
 * Spends every part or none: each reservation takes its tokens at once, and
 * if a later part is refused the earlier ones are given back.
 */
export async function takeBudgets(
  parts: readonly (readonly [BudgetBuckets, string, number])[],
): Promise<Take> {
  const taken: (readonly [BudgetBuckets, string, number])[] = [];
  const giveBack = () => {
    for (const [buckets, key, amount] of taken) buckets.release(key, amount);
  };
  for (const part of parts) {
    const [buckets, key, amount] = part;
    let verdict: Take;
    try {
      verdict = await buckets.reserve(key, amount);
    } catch (error) {
      // The database failed mid-request: the request fails whole, so it spends nothing.
      giveBack();
      throw error;
    }
    if (!verdict.ok) {
      giveBack();
      return verdict;
    }
    taken.push(part);
  }
  return { ok: true };
}
