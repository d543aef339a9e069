// How often a crashed core worker is restarted: a core that keeps crashing
// must not spin in a restart loop, so past a few crashes a minute it stays down.
/** More crashes than this within RESTART_WINDOW_MS and the host stops restarting the core. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

/** The recent restarts of one CoreHost. */
export class RestartBudget {
  readonly #restarts: number[] = [];

  /** Counts a restart now; false once the crashes within the window exceed the budget. */
  take(now: number = Date.now()): boolean {
    this.#restarts.push(now);
    while (this.#restarts[0] !== undefined && this.#restarts[0] < now - RESTART_WINDOW_MS)
      this.#restarts.shift();
    return this.#restarts.length <= MAX_RESTARTS;
  }

  /** Restarts within the window (for the log). */
  get recent(): number {
    return this.#restarts.length;
  }
}
