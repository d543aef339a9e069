import { describe, expect, it } from 'vitest';
import { GATHER_FULL, GATHER_MS, Gathering } from '../../../relay/postgres/gathering.ts';

// When a node's next PostgreSQL store call waits for company
// (relay/postgres/gathering.ts), on a clock the test steps: only right after
// a call ended, only while few envelopes wait, and only while waits keep
// catching stores that came by themselves (in a wait's second half).

function stepped() {
  let at = 1_000;
  const gathering = new Gathering(GATHER_MS, GATHER_FULL, () => at);
  return {
    gathering,
    step: (ms: number) => {
      at += ms;
    },
  };
}

/** One wait: a call ended, one store queued; `late` stores arrive in the second half, else in the first. */
function oneWait(g: ReturnType<typeof stepped>, late: boolean): number {
  g.gathering.callEnded();
  const delay = g.gathering.delay(1);
  if (delay > 0) {
    g.step(late ? (3 * GATHER_MS) / 4 : 1);
    g.gathering.arrived(2);
    g.step(GATHER_MS);
    g.gathering.ended();
  }
  return delay;
}

describe('gathering a node’s stores into fewer calls', () => {
  it('a store on an idle node goes at once; right after a call ended it waits GATHER_MS', () => {
    const g = stepped();
    expect(g.gathering.delay(1)).toBe(0);
    g.gathering.callEnded();
    g.step(GATHER_MS);
    expect(g.gathering.delay(1)).toBe(0);
    g.gathering.callEnded();
    g.step(1);
    expect(g.gathering.delay(1)).toBe(GATHER_MS);
  });

  it('a full call goes at once, and a wait ends when its call fills up', () => {
    const g = stepped();
    g.gathering.callEnded();
    expect(g.gathering.delay(GATHER_FULL)).toBe(0);
    expect(g.gathering.delay(1)).toBe(GATHER_MS);
    expect(g.gathering.arrived(GATHER_FULL - 1)).toBe(false);
    expect(g.gathering.arrived(GATHER_FULL)).toBe(true);
  });

  it('waits go on while stores keep coming in their second half', () => {
    const g = stepped();
    for (let i = 0; i < 20; i++) expect(oneWait(g, true)).toBe(GATHER_MS);
    expect(g.gathering.willWait).toBe(true);
  });

  it('a sender that only answers the last call (first-half arrivals) stops being held, then is probed once a second', () => {
    const g = stepped();
    const delays = Array.from({ length: 8 }, () => oneWait(g, false));
    // 1 → 0.75 → 0.56 → 0.42 → 0.32 → 0.24: five waits, then none.
    expect(delays).toEqual([...Array<number>(5).fill(GATHER_MS), 0, 0, 0]);
    expect(g.gathering.willWait).toBe(false);
    g.step(1_000);
    expect(oneWait(g, true)).toBe(GATHER_MS);
    expect(g.gathering.willWait).toBe(true);
  });

  it('a full call counts as gathered even in the first half', () => {
    const g = stepped();
    for (let i = 0; i < 10; i++) {
      g.gathering.callEnded();
      expect(g.gathering.delay(1)).toBe(GATHER_MS);
      g.step(1);
      expect(g.gathering.arrived(GATHER_FULL)).toBe(true);
      g.gathering.ended();
    }
    expect(g.gathering.willWait).toBe(true);
  });

  it('gatherMs 0 never waits', () => {
    const gathering = new Gathering(0, GATHER_FULL, () => 5);
    gathering.callEnded();
    expect(gathering.delay(1)).toBe(0);
  });
});
