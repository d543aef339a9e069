import { performance } from 'node:perf_hooks';

/**
 * How long a node's next store call waits for more stores when its last
 * call has just ended and few wait: a node whose calls run back to back
 * keeps PostgreSQL at one call per commit whatever the rate, and its CPU
 * follows calls, not envelopes (docs/relay-operations.md#gathering-stores).
 */
export const GATHER_MS = 8;
/** Envelopes waiting that make a call worth sending at once. */
export const GATHER_FULL = 32;
/** Weight of the latest wait in the running score. */
const SCORE_WEIGHT = 0.25;
/** Below this score the node stops waiting (but for one probe per PROBE_MS, so a rising load is noticed). */
const SCORE_FLOOR = 0.25;
const PROBE_MS = 1_000;

/**
 * When a store should wait for company. A wait is only worth its
 * milliseconds if stores keep coming by themselves during it: stores sent in
 * answer to the last call's results (a client on this machine or its LAN
 * that waits for each answer) come within a millisecond or two, so only a
 * store in a wait's second half counts as gathered. While fewer than
 * SCORE_FLOOR of the recent waits gathered, stores go at once: a lone sender
 * in a closed loop is not slowed. A store on an idle node (no call ended in
 * the last `gatherMs`) never waits.
 */
export class Gathering {
  private lastCallEnd = -Infinity;
  private lastProbe = -Infinity;
  private score = 1;
  private waiting: { readonly since: number; gathered: boolean } | undefined;

  /** `gatherMs` 0 turns waiting off; `clock`: tests only. */
  constructor(
    private readonly gatherMs = GATHER_MS,
    private readonly full = GATHER_FULL,
    private readonly clock = () => performance.now(),
  ) {}

  /** One of the node's store calls ended (answered or failed). */
  callEnded(): void {
    this.lastCallEnd = this.clock();
  }

  /** Milliseconds the next call (for `queued` envelopes) should wait; 0: now. A positive answer starts a wait. */
  delay(queued: number): number {
    const now = this.clock();
    if (this.gatherMs === 0 || queued >= this.full || now - this.lastCallEnd >= this.gatherMs)
      return 0;
    if (this.score < SCORE_FLOOR) {
      if (now - this.lastProbe < PROBE_MS) return 0;
      this.lastProbe = now;
    }
    this.waiting = { since: now, gathered: false };
    return this.gatherMs;
  }

  /** A store was queued (now `queued` envelopes wait); true if a running wait should end now (the call is full). */
  arrived(queued: number): boolean {
    if (this.waiting === undefined) return false;
    if (queued >= this.full || this.clock() - this.waiting.since >= this.gatherMs / 2)
      this.waiting.gathered = true;
    return queued >= this.full;
  }

  /** The call went (its wait ran out, the call filled up, or close); a no-op when no wait ran. */
  ended(): void {
    if (this.waiting === undefined) return;
    const before = this.score;
    this.score = (1 - SCORE_WEIGHT) * before + SCORE_WEIGHT * (this.waiting.gathered ? 1 : 0);
    // The first probe comes PROBE_MS after waiting stopped paying.
    if (before >= SCORE_FLOOR && this.score < SCORE_FLOOR) this.lastProbe = this.clock();
    this.waiting = undefined;
  }

  /** Whether stores wait at present (tests read it). */
  get willWait(): boolean {
    return this.score >= SCORE_FLOOR;
  }
}
