import { describe, expect, it } from 'vitest';
import { attachmentFigures, type ChildResult } from '../../../bench/attachments/figures.ts';
import {
  FLOOR_PRIMITIVES,
  floorOf,
  floorSample,
  type FloorSample,
} from '../../../bench/attachments/floor.ts';
import { meets, ratioOf } from '../../../bench/support/report.ts';

// The attachment benchmark's baseline and crypto floor (issue 13 §4): the
// arithmetic on synthetic samples, so each figure is pinned exactly, and one
// real sample to show every counted primitive is timed.

const MIB = 2 ** 20;

/** A sample where every primitive took `wallMs` (CPU half of it) and AES-CBC `aesMs`. */
function sample(wallMs: number, aesMs = wallMs): FloorSample {
  return new Map(
    FLOOR_PRIMITIVES.map(({ name }) => {
      const ms = name === 'AES-256-CBC encrypt' ? aesMs : wallMs;
      return [name, { wallMs: ms, cpuMs: ms / 2 }];
    }),
  );
}

function result(ms: number, cpuMs = ms, peakMB = 50): ChildResult {
  return {
    ms,
    sendMs: ms / 2,
    receiveMs: ms / 4,
    saveMs: ms / 4,
    cpuMs,
    systemMs: cpuMs / 4,
    bytes: MIB,
    idleMB: 10,
    peakMB,
  };
}

describe('attachment benchmark figures', () => {
  it('the floor counts every pass the path runs: 9 over the bytes', () => {
    expect(FLOOR_PRIMITIVES.reduce((sum, p) => sum + p.count, 0)).toBe(9);
  });

  it('the floor is the counted sum of per-primitive medians, so one slow sample does not move it', () => {
    const floor = floorOf([sample(1), sample(1), sample(400), sample(1), sample(1)]);
    expect(floor.wallMs).toBe(9);
    expect(floor.cpuMs).toBe(4.5);
    expect(floor.aesWallMs).toEqual([1, 1, 400, 1, 1]);
    expect(floor.aesCpuMs).toEqual([0.5, 0.5, 200, 0.5, 0.5]);
  });

  it('the issue ratio is the median run against the median raw AES pass', () => {
    const floor = floorOf([sample(2, 10), sample(2, 1000), sample(2, 5)]);
    const runs = [result(200), result(100), result(9000)];
    const [endToEnd, perCpu, vsFloor, cpu, rss] = attachmentFigures('1 MiB', MIB, runs, floor);
    // 1 MiB in the median run's 200 ms against AES's median 10 ms: 0.05×, target missed.
    expect(ratioOf(endToEnd!)).toBeCloseTo(0.05);
    expect(meets(endToEnd!)).toBe('NO');
    // In CPU time: the median run's 200 ms against AES's median 5 ms of CPU.
    expect(ratioOf(perCpu!)).toBeCloseTo(5 / 200);
    // Floor: 1 × 10 ms AES-CBC + 8 passes × 2 ms = 26 ms.
    expect(ratioOf(vsFloor!)).toBeCloseTo(26 / 200);
    expect(vsFloor!.note).toContain('floor 26 ms');
    // CPU: median 200 ms/MiB against the floor's 5 + 8 = 13 ms.
    expect(cpu!.value).toBe(200);
    expect(ratioOf(cpu!)).toBeCloseTo(200 / 13);
    expect(cpu!.note).toContain('25 % of it in the kernel');
    expect(rss!.value).toBe(40);
  });

  it('a product at half the raw AES speed meets the target', () => {
    const floor = floorOf([sample(1, 10)]);
    const [endToEnd] = attachmentFigures('1 MiB', MIB, [result(20)], floor);
    expect(meets(endToEnd!)).toBe('yes');
  });

  it('a real sample times every counted primitive over the bytes', () => {
    const taken = floorSample(Buffer.alloc(3 * 64 * 1024 + 5, 7));
    for (const { name } of FLOOR_PRIMITIVES) expect(taken.get(name)?.wallMs).toBeGreaterThan(0);
  });
});
