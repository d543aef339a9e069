import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';

const run = promisify(execFile);
const CHILD = join(import.meta.dirname, 'paint', 'child.ts');

/**
 * Benchmark: opening a conversation of 200 image messages in the app, the
 * first paint of the visible images after the text rows (target ≤ 300 ms),
 * median of the child's runs; the baseline is the same runs' text rows.
 */
export async function attachmentPaintSection(): Promise<Metric[]> {
  console.log('\n[attachments-paint] seeding 200 image messages, then Chromium…');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD], {
    maxBuffer: 1 << 20,
  });
  const runs = JSON.parse(stdout) as { rows: number[]; images: number[] };
  const rows = percentile(runs.rows, 50);
  const images = percentile(runs.images, 50);
  const gaps = runs.images.map((ms, i) => ms - (runs.rows[i] ?? 0));
  return [
    {
      section: 'attachments',
      name: 'open 200 image messages: visible images painted after the text rows',
      value: percentile(gaps, 50),
      unit: 'ms',
      target: { op: '<=', value: 300 },
      note: `median of ${gaps.length}; each run ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`,
    },
    {
      section: 'attachments',
      name: 'open 200 image messages: visible images painted (from the click)',
      value: images,
      unit: 'ms',
      baseline: { name: 'text rows painted (same runs)', value: rows },
    },
  ];
}
