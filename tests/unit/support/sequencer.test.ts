import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import { EXPECTED_SECONDS, LongestFirstSequencer } from '../../support/sequencer.ts';

// CI's file order (tests/support/sequencer.ts): the longest files start first
// whatever their project, and the table names files that exist (a renamed
// file would silently fall back to vitest's order and might start last).

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What the sequencer reads of a file: its path and project (vitest's own objects carry more). */
function spec(path: string, project: string): TestSpecification {
  const config = { sequence: { groupOrder: 0 }, isolate: true };
  return { moduleId: join(ROOT, path), project: { name: project, config } } as never;
}

/** A fresh clone's vitest: no cached timings, every file the same size. */
const freshClone = {
  config: { root: ROOT },
  cache: { getFileTestResults: () => undefined, getFileStats: () => ({ size: 1 }) },
} as unknown as Vitest;

describe('LongestFirstSequencer', () => {
  it('starts the longest files first across projects; files it has no time for keep their order, after them', async () => {
    const files = [
      spec('tests/unit/new-a.test.ts', 'unit'),
      spec('tests/e2e/groups.test.ts', 'e2e'),
      spec('tests/unit/new-b.test.ts', 'unit'),
      spec('tests/integration/attachments/cli-attachments.test.ts', 'slow'),
      spec('tests/integration/cli/delete.test.ts', 'integration'),
    ];
    const sorted = await new LongestFirstSequencer(freshClone).sort(files);
    // The timed files by their seconds in the table (a refresh from a CI log may reorder them).
    const timed = [
      'tests/e2e/groups.test.ts',
      'tests/integration/attachments/cli-attachments.test.ts',
      'tests/integration/cli/delete.test.ts',
    ];
    for (const name of timed) expect(EXPECTED_SECONDS[name], name).toBeGreaterThan(0);
    timed.sort((a, b) => EXPECTED_SECONDS[b]! - EXPECTED_SECONDS[a]!);
    expect(sorted.map((s) => s.moduleId.slice(ROOT.length))).toEqual([
      ...timed,
      'tests/unit/new-a.test.ts',
      'tests/unit/new-b.test.ts',
    ]);
  });

  it('has a time only for test files that exist', () => {
    const names = Object.keys(EXPECTED_SECONDS);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) {
      expect(name, name).toMatch(/^tests\/.+\.test\.ts$/);
      expect(existsSync(join(ROOT, name)), name).toBe(true);
    }
  });
});
