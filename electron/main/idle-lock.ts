// Locks the app after the user's auto-lock timeout of system idle time, and
// whenever the OS locks the session or suspends. Takes its clock and lock action as functions so it
// is tested without Electron (index.ts passes powerMonitor and CoreHost).
import type { ShellState } from './shell-state.ts';

export interface IdleLockOptions {
  readonly state: Pick<ShellState, 'unlocked' | 'autoLockMinutes'>;
  /** Seconds since the last user input anywhere on the system (powerMonitor.getSystemIdleTime). */
  readonly idleSeconds: () => number;
  readonly lock: () => void;
  readonly intervalMs?: number;
}

export class IdleLock {
  readonly #options: IdleLockOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: IdleLockOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.check(), this.#options.intervalMs ?? 15_000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Locks if unlocked, auto-lock is on, and the system has been idle long enough. */
  check(): void {
    const { state } = this.#options;
    if (!state.unlocked || state.autoLockMinutes <= 0) return;
    if (this.#options.idleSeconds() >= state.autoLockMinutes * 60) this.#options.lock();
  }

  /**
   * The OS locked the session (or is suspending): lock now, whatever the
   * auto-lock timeout (docs/threat-model.md, "The lock is a screen lock").
   */
  screenLocked(): void {
    if (this.#options.state.unlocked) this.#options.lock();
  }
}
