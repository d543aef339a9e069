/** What to do with one incoming frame. */
export type RateDecision = 'accept' | 'refuse' | 'close';

/** Consecutive refused frames after which the connection is closed (docs/relay-protocol.md#errors). */
const REFUSALS_BEFORE_CLOSE = 3;

/**
 * Per-connection frame budget: `limit` frames per fixed one-second window.
 * Frames over it are refused; the third refusal in a row closes the
 * connection, so a client that backs off on the first error stays connected.
 */
export class FrameRateLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private frames = 0;
  private refusedInARow = 0;

  constructor(
    private readonly limit: number,
    private readonly now: () => number,
    private readonly windowMs = 1000,
  ) {}

  /** Counts one frame and decides its fate. */
  hit(): RateDecision {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.frames = 0;
    }
    this.frames += 1;
    if (this.frames <= this.limit) {
      this.refusedInARow = 0;
      return 'accept';
    }
    this.refusedInARow += 1;
    return this.refusedInARow >= REFUSALS_BEFORE_CLOSE ? 'close' : 'refuse';
  }

  /** Milliseconds until the current window ends and frames are accepted again. */
  retryAfterMs(): number {
    return Math.max(1, Math.ceil(this.windowStart + this.windowMs - this.now()));
  }
}
