import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';
import { heldConnections } from './connections.ts';
import { endToEnd, freshDrain } from './e2e.ts';
import { benchText } from './peers.ts';
import { rawRoundTripRate } from './raw-roundtrip.ts';
import { withRelay } from './relay-child.ts';

const SECTION = 'sync';

/** Shape of the sync benchmarks (all against a real relay child on 127.0.0.1). */
export const SYNC = {
  /** Benchmark 1: messages A sends to B while B receives. */
  messages: 2000,
  /** Untimed raw libsignal round trips before the baseline is timed. */
  rawWarmup: 200,
  /** Benchmark 2: messages queued for an offline B. */
  drainMessages: 5000,
  drainTargetSeconds: 3,
  /** Benchmark 3. */
  connections: 2000,
  concurrency: 100,
  trials: 200,
  latencyWarmup: 100,
  bodyBytes: 200,
} as const;

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

function failureText(failures: ReadonlyMap<string, number>): string {
  if (failures.size === 0) return 'no failures';
  return [...failures].map(([reason, count]) => `${count}× ${reason}`).join('; ');
}

/**
 * The relay + sync path: end-to-end throughput against raw libsignal, a fresh
 * client draining a full mailbox, and delivery latency with many
 * authenticated connections held open.
 */
export async function syncSection(): Promise<Metric[]> {
  const { messages, drainMessages, connections } = SYNC;
  console.log(
    `\n[sync] relay child on 127.0.0.1: ${messages} messages end-to-end; fresh drain of ${drainMessages}; ${connections} connections`,
  );

  const texts = Array.from({ length: messages }, (_, i) => benchText(i));
  const raw = await rawRoundTripRate(texts, SYNC.rawWarmup);
  console.log(`  raw libsignal encrypt+decrypt: ${int(raw)} msg/s`);
  const e2e = await withRelay((url) => endToEnd(url, messages), tempDir('sotto-bench-relay-'));
  console.log(`  end-to-end: ${e2e.messages} in ${ms(e2e.ms)} (${int(e2e.perSecond)} msg/s)`);

  const drain = await withRelay(
    (url) => freshDrain(url, drainMessages),
    tempDir('sotto-bench-relay-'),
  );
  console.log(
    `  fresh drain: ${drain.messages} in ${ms(drain.ms)} (sending them took ${ms(drain.sendMs)}, ${drain.sendPasses} pass(es))`,
  );

  const held = await heldConnections({
    connections,
    concurrency: SYNC.concurrency,
    trials: SYNC.trials,
    warmup: SYNC.latencyWarmup,
    bodyBytes: SYNC.bodyBytes,
  });
  console.log(
    `  connections: ${held.ready}/${held.attempted} ready in ${ms(held.openMs)}, ${held.stillOpen} open after the latency run`,
  );

  const p = (values: readonly number[], q: number) => percentile(values, q);
  const latencyNote = `${SYNC.trials} sends (+${SYNC.latencyWarmup} untimed), one at a time, random sender → random receiver, ${SYNC.bodyBytes}-byte body; send frame → envelopes push`;
  const base50 = { name: '2 connections', value: p(held.baseline, 50) };
  const base99 = { name: '2 connections', value: p(held.baseline, 99) };
  const label = `${int(held.ready)} connections`;
  return [
    {
      section: SECTION,
      name: 'raw libsignal encrypt+decrypt (baseline)',
      value: raw,
      unit: 'msg/s',
      note: `${messages} × 150-byte texts over one established session, in-memory stores; encrypt all, then decrypt all (+${SYNC.rawWarmup} untimed)`,
    },
    {
      section: SECTION,
      name: 'end-to-end send → receive committed',
      value: e2e.perSecond,
      unit: 'msg/s',
      baseline: { name: 'raw libsignal', value: raw },
      note: `${e2e.messages} messages in ${ms(e2e.ms)}; A's sendOutbox (encrypt + send) ${ms(e2e.sendMs)} in ${e2e.sendPasses} pass(es), B's receive concurrent; Whisper messages after a handshake`,
    },
    {
      section: SECTION,
      name: 'end-to-end / raw libsignal',
      value: e2e.perSecond / raw,
      unit: '×',
      target: { op: '>=', value: 0.5 },
    },
    {
      section: SECTION,
      name: 'sendOutbox alone (recipient offline)',
      value: (drainMessages / drain.sendMs) * 1000,
      unit: 'msg/s',
      baseline: { name: 'raw libsignal', value: raw },
      note: `A sending the ${int(drainMessages)} of the drain benchmark in ${ms(drain.sendMs)}: send.batch requests of up to 100 envelopes, each batch answered after one durable commit on the relay`,
    },
    {
      section: SECTION,
      name: `fresh client drains ${int(drainMessages)} queued`,
      value: drain.ms / 1000,
      unit: 's',
      target: { op: '<=', value: SYNC.drainTargetSeconds },
      note: `${ms(drain.ms)}: new SyncEngine + connect + auth + receive until all stored; PreKey (type 3) envelopes, A had no session before`,
    },
    {
      section: SECTION,
      name: 'fresh client drain rate',
      value: drain.perSecond,
      unit: 'msg/s',
    },
    {
      section: SECTION,
      name: 'authenticated connections held',
      value: held.ready,
      unit: 'connections',
      target: { op: '>=', value: connections },
      note: `${held.attempted} attempted, ${SYNC.concurrency} handshakes at a time, opened in ${ms(held.openMs)}; ${held.stillOpen} still open after the latency run; ${failureText(held.failures)}; open-file soft limit: bench ${held.fdLimits.bench ?? '?'}, relay ${held.fdLimits.relay ?? '?'}`,
    },
    {
      section: SECTION,
      name: 'delivery latency p50, 2 connections (baseline)',
      value: base50.value,
      unit: 'ms',
      note: latencyNote,
    },
    {
      section: SECTION,
      name: `delivery latency p50, ${label}`,
      value: p(held.loaded, 50),
      unit: 'ms',
      baseline: base50,
    },
    {
      section: SECTION,
      name: 'delivery latency p99, 2 connections (baseline)',
      value: base99.value,
      unit: 'ms',
    },
    {
      section: SECTION,
      name: `delivery latency p99, ${label}`,
      value: p(held.loaded, 99),
      unit: 'ms',
      baseline: base99,
    },
  ];
}
