// The transport blob's bytes on their way from the seal to the upload that
// follows it (sealing-upload.ts), in memory: compose writes no ciphertext temp
// file (docs/architecture.md#upload-while-sealing). At most SEALED_BUFFER_BYTES
// wait here; past that the seal waits for the upload, and once it has waited
// SEAL_WAIT_BUDGET_MS in all (a slow or stalled link) the upload steps aside:
// what is queued is dropped, the seal goes on alone, and the upload job sends
// the rest later, re-derived from the stored copy (blob-source.ts).

/** Most sealed bytes held for the upload (a few chunks of the seal's 1 MiB reads). */
export const SEALED_BUFFER_BYTES = 4 * 1024 * 1024;

/** Longest the seal waits for the upload in all, before the upload steps aside. */
export const SEAL_WAIT_BUDGET_MS = 3000;

/** The seal's transport bytes, queued in order for the upload that follows it. */
export class SealedStream {
  private queue: Buffer[] = [];
  private held = 0;
  private ended = false;
  private dropped = false;
  private failure: { readonly error: unknown } | undefined;
  private waiters: (() => void)[] = [];

  /** `waitBudgetMs`: how long the seal may wait for the upload in all before it steps aside. */
  constructor(private waitBudget = SEAL_WAIT_BUDGET_MS) {}

  /**
   * Queues the seal's next bytes; resolves once fewer than SEALED_BUFFER_BYTES
   * are held (the seal's backpressure), at once when nobody follows any more.
   */
  readonly push = async (bytes: Buffer): Promise<void> => {
    this.check();
    if (this.dropped || bytes.length === 0) return;
    this.queue.push(bytes);
    this.held += bytes.length;
    this.wake();
    while (this.held > SEALED_BUFFER_BYTES && !this.dropped && this.failure === undefined) {
      if (this.waitBudget <= 0) {
        this.drop();
        return;
      }
      const since = Date.now();
      await this.change(this.waitBudget);
      this.waitBudget -= Date.now() - since;
    }
  };

  /** Every byte was pushed. */
  finish(): void {
    this.ended = true;
    this.wake();
  }

  /** The seal failed or was cancelled: the upload stops with `error` at its next take. */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.wake();
  }

  /** The upload stops following: what is queued is let go, and the seal no longer waits. */
  drop(): void {
    this.dropped = true;
    this.queue = [];
    this.held = 0;
    this.wake();
  }

  /** Whether the seal has ended, well or not. */
  get done(): boolean {
    return this.ended || this.failure !== undefined;
  }

  /** Whether the upload stopped following (drop). */
  get abandoned(): boolean {
    return this.dropped;
  }

  /** Throws the seal's failure, if any. */
  check(): void {
    if (this.failure) throw this.failure.error;
  }

  /**
   * The next sealed bytes, at most `max`, once there are some; undefined at
   * the end of the seal or once dropped; the seal's failure otherwise.
   */
  async take(max: number): Promise<Buffer | undefined> {
    for (;;) {
      this.check();
      if (this.dropped) return undefined;
      const head = this.queue[0];
      if (head) {
        const taken = head.length <= max ? head : head.subarray(0, max);
        if (taken === head) this.queue.shift();
        else this.queue[0] = head.subarray(max);
        this.held -= taken.length;
        this.wake();
        return taken;
      }
      if (this.ended) return undefined;
      await this.change();
    }
  }

  /** Resolves at the next push, take, end, failure or drop (or after `ms`). */
  private change(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
