import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';
import { type MultiRound, multiVersusSingles } from './multi-send.ts';
import { withRelay } from './relay-child.ts';

const SECTION = 'multi';

/** Shape of the multi-recipient benchmark (BENCH_ONLY=multi). */
export const MULTI = {
  recipients: 100,
  warmup: 3,
  rounds: 20,
  innerBytes: 300,
} as const;

const median = (rounds: readonly MultiRound[], pick: (r: MultiRound) => number) =>
  percentile(rounds.map(pick), 50);

/** One group message to 100 accounts: one send.multi frame vs 100 pipelined sends, same relay child. */
export async function multiSection(): Promise<Metric[]> {
  const { recipients, warmup, rounds, innerBytes } = MULTI;
  console.log(
    `\n[multi] relay child on 127.0.0.1: one message to ${recipients} accounts as one send.multi vs ${recipients} pipelined sends of the same copies; ${rounds} rounds (+${warmup} warm-up), order alternating`,
  );
  const result = await withRelay(
    (url) => multiVersusSingles(url, recipients, warmup + rounds, innerBytes),
    tempDir(),
  );
  const multi = result.multi.slice(warmup);
  const singles = result.singles.slice(warmup);
  const baseline = (name: string, pick: (r: MultiRound) => number) => ({
    name,
    value: median(singles, pick),
  });
  const answered = baseline(`${recipients} sends`, (r) => r.answeredMs);
  const delivered = baseline(`${recipients} sends`, (r) => r.deliveredMs);
  const bytes = baseline(`${recipients} sends`, (r) => r.frameBytes);
  const note = `median of ${rounds}; sealed sender v2, ${innerBytes}-byte inner message, every recipient one device; encryption not timed`;
  return [
    {
      section: SECTION,
      name: `${recipients} sends: all answered`,
      value: answered.value,
      unit: 'ms',
      note,
    },
    {
      section: SECTION,
      name: `send.multi: answered`,
      value: median(multi, (r) => r.answeredMs),
      unit: 'ms',
      baseline: answered,
    },
    {
      section: SECTION,
      name: `${recipients} sends: last push arrived`,
      value: delivered.value,
      unit: 'ms',
    },
    {
      section: SECTION,
      name: 'send.multi: last push arrived',
      value: median(multi, (r) => r.deliveredMs),
      unit: 'ms',
      baseline: delivered,
    },
    {
      section: SECTION,
      name: `${recipients} sends: frame bytes`,
      value: bytes.value,
      unit: 'bytes',
    },
    {
      section: SECTION,
      name: 'send.multi: frame bytes',
      value: median(multi, (r) => r.frameBytes),
      unit: 'bytes',
      baseline: bytes,
    },
  ];
}
