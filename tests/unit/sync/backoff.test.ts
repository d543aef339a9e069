import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { backoffMs, sleep } from '../../../electron/core/sync/backoff.ts';

describe('reconnect backoff', () => {
  it('is full jitter: anywhere from 0 to the ceiling, not just its upper half', () => {
    expect(backoffMs(1, () => 0)).toBe(0);
    expect(backoffMs(1, () => 0.25)).toBe(250);
    expect(backoffMs(1, () => 1)).toBe(1_000);
    expect(backoffMs(3, () => 0.1)).toBe(400);
  });

  it('caps the ceiling at 30 s however many failures', () => {
    expect(backoffMs(50, () => 1)).toBe(30_000);
    expect(backoffMs(50, () => 0.5)).toBe(15_000);
  });
});

describe('sleep', () => {
  it('leaves no abort listener behind after the wait ends (a reconnect loop does not leak one per wait)', async () => {
    const abort = new AbortController();
    for (let i = 0; i < 20; i++) await sleep(1, abort.signal);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
  });

  it('resolves at once when aborted, and at once if already aborted', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const waiting = sleep(60_000, abort.signal);
    abort.abort();
    await waiting;
    await sleep(60_000, abort.signal);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
