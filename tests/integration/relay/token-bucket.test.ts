import { describe, expect, it } from 'vitest';
import { BucketMap } from '../../../relay/token-bucket.ts';

// The budgets' arithmetic, on a clock the test moves.
describe('token buckets', () => {
  it('a burst passes, then requests wait for the refill, and the retry hint is exact', () => {
    let now = 0;
    const buckets = new BucketMap<string>({ burst: 3, perSecond: 2 }, () => now);
    expect([1, 2, 3].map(() => buckets.take('a').ok)).toEqual([true, true, true]);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterMs: 500 });
    now += 499;
    expect(buckets.take('a').ok).toBe(false);
    now += 1;
    expect(buckets.take('a').ok).toBe(true);
    // Another key has its own bucket.
    expect(buckets.take('b').ok).toBe(true);
  });

  it('a refused request takes nothing; one larger than the burst is told the time to a full bucket', () => {
    let now = 0;
    const bytes = new BucketMap<string>({ burst: 100, perSecond: 10 }, () => now);
    expect(bytes.take('a', 60).ok).toBe(true);
    expect(bytes.take('a', 60)).toEqual({ ok: false, retryAfterMs: 2_000 });
    expect(bytes.take('a', 40).ok).toBe(true);
    expect(bytes.take('a', 1_000)).toEqual({ ok: false, retryAfterMs: 10_000 });
    now += 10_000;
    expect(bytes.peek('a', 100).ok).toBe(true);
  });

  it('prune forgets only buckets that have refilled, so memory stays bounded by recent activity', () => {
    let now = 0;
    const buckets = new BucketMap<number>({ burst: 2, perSecond: 1 }, () => now);
    for (let key = 0; key < 1_000; key++) buckets.take(key);
    buckets.take(1_000, 2);
    expect(buckets.size).toBe(1_001);
    now += 1_000;
    buckets.prune();
    expect(buckets.size).toBe(1); // key 1000 is still refilling
    now += 1_000;
    buckets.prune();
    expect(buckets.size).toBe(0);
  });
});
