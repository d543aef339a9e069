// Token buckets (the shape Signal-Server's rate limiters use): a bucket holds
// up to `burst` tokens and refills at `perSecond`; a request takes tokens or is
// refused with the time until it could succeed. Buckets live in memory: a
// restart forgets them, which only ever errs on the side of honest clients.

/** A bucket's size and refill rate. */
export interface BucketSpec {
  readonly burst: number;
  readonly perSecond: number;
}

/** Taken, or refused with how long until the same request could be taken. */
export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets of one spec, one per key (a mailbox, an address, a connection...). */
export class BucketMap<K> {
  private readonly buckets = new Map<K, Bucket>();

  constructor(
    readonly spec: BucketSpec,
    private readonly now: () => number,
  ) {}

  /** Whether `amount` tokens are available for `key` right now, without taking them. */
  peek(key: K, amount = 1): Take {
    return this.verdict(this.refilled(key), amount);
  }

  /** Takes `amount` tokens for `key`, or takes nothing and says when to retry. */
  take(key: K, amount = 1): Take {
    const bucket = this.refilled(key);
    const verdict = this.verdict(bucket, amount);
    if (verdict.ok) {
      bucket.tokens -= amount;
      this.buckets.set(key, bucket);
    }
    return verdict;
  }

  /** Gives back tokens taken for a request that was refused elsewhere (never above the burst). */
  refund(key: K, amount: number): void {
    const bucket = this.refilled(key);
    bucket.tokens = Math.min(this.spec.burst, bucket.tokens + amount);
    this.buckets.set(key, bucket);
  }

  /** Forgets buckets that have refilled completely (they equal fresh ones): bounds memory. */
  prune(): void {
    for (const [key, bucket] of this.buckets)
      if (this.refill(bucket).tokens >= this.spec.burst) this.buckets.delete(key);
  }

  /** Buckets currently held (for tests of pruning). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: K): Bucket {
    const bucket = this.buckets.get(key);
    return bucket === undefined ? { tokens: this.spec.burst, at: this.now() } : this.refill(bucket);
  }

  private refill(bucket: Bucket): Bucket {
    const now = this.now();
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(
      this.spec.burst,
      bucket.tokens + (elapsed * this.spec.perSecond) / 1000,
    );
    bucket.at = now;
    return bucket;
  }

  private verdict(bucket: Bucket, amount: number): Take {
    if (bucket.tokens >= amount) return { ok: true };
    // A request larger than the burst can never pass; say so with the time to a full bucket.
    const missing = Math.min(amount, this.spec.burst) - bucket.tokens;
    const retryAfterMs =
      this.spec.perSecond > 0 ? Math.ceil((missing * 1000) / this.spec.perSecond) : 3_600_000;
    return { ok: false, retryAfterMs: Math.max(1, retryAfterMs) };
  }
}
