// Waiting between reconnection attempts (docs/architecture.md#sync-engine-and-relays).

/** Exponential backoff with full jitter: a random wait in [0, ceiling], the ceiling 0.5 s doubling up to 30 s. */
export function backoffMs(failures: number, random = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.min(Math.max(failures, 0), 10));
  return Math.round(random() * ceiling);
}

/** Resolves after `ms`, or at once when `signal` aborts; leaves no listener on `signal` either way. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
