import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';
import { relayFlood } from './relay-flood.ts';

const SECTION = 'relay-flood';

/** Shape of the relay flood benchmark (BENCH_ONLY=relay-flood). */
export const RELAY_FLOOD = {
  strangers: 1000,
  withToken: 100,
  concurrency: 50,
  roundTrips: 200,
  warmup: 20,
  bodyBytes: 512,
} as const;

/** The honest pair's round trip, idle and under a flood from 1,000 strangers (target p99 ≤ 50 ms). */
export async function relayFloodSection(): Promise<Metric[]> {
  console.log(
    `\n[relay-flood] relay child on 127.0.0.1: ${RELAY_FLOOD.strangers} anonymous strangers (${RELAY_FLOOD.withToken} with a leaked token to a third mailbox) vs an honest pair, ${RELAY_FLOOD.roundTrips} round trips each way`,
  );
  const result = await relayFlood(RELAY_FLOOD);
  const answered = [...result.answers.values()].reduce((n, c) => n + c, 0);
  const answers = [...result.answers].map(([code, count]) => `${count}× ${code}`).join(', ');
  console.log(`  strangers ready: ${result.strangersReady}; during the measurement: ${answers}`);
  const p = (values: readonly number[], q: number) => percentile(values, q);
  const note = `A sends to B (anonymous connection, B's token), B's push arrives, B replies the same way, A's push arrives; ${RELAY_FLOOD.bodyBytes}-byte bodies; one at a time`;
  const idle50 = { name: 'idle relay', value: p(result.idle, 50) };
  const idle99 = { name: 'idle relay', value: p(result.idle, 99) };
  return [
    { section: SECTION, name: 'honest round trip p50, idle (baseline)', value: idle50.value, unit: 'ms', note },
    { section: SECTION, name: 'honest round trip p99, idle (baseline)', value: idle99.value, unit: 'ms' },
    {
      section: SECTION,
      name: `honest round trip p50, ${result.strangersReady} strangers flooding`,
      value: p(result.flooded, 50),
      unit: 'ms',
      baseline: idle50,
    },
    {
      section: SECTION,
      name: `honest round trip p99, ${result.strangersReady} strangers flooding`,
      value: p(result.flooded, 99),
      unit: 'ms',
      baseline: idle99,
      target: { op: '<=', value: 50 },
    },
    {
      section: SECTION,
      name: 'stranger requests answered during the flood',
      value: answered / result.floodSeconds,
      unit: 'req/s',
      note: `${answers}; every stranger keeps one send in flight; relay open-file limit ${result.fdLimit ?? '?'}`,
    },
  ];
}
