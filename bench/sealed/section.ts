import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';
import type { Throughput } from '../receive/raw-libsignal.ts';
import { type PathThroughput, rawEndToEnd, sottoEndToEnd } from './e2e.ts';

const SECTION = 'sealed';

/** Shape of the sealed-sender bench: messages timed per run, warm-up, batch, rounds. */
export const SEALED = {
  messages: 1000,
  warmup: 200,
  batch: 100,
  rounds: 5,
  rawPlaintextBytes: 320,
} as const;

function median(runs: readonly Throughput[]): number {
  return percentile(
    runs.map((r) => r.perSecond),
    50,
  );
}

function list(runs: readonly Throughput[]): string {
  return runs.map((r) => Math.round(r.perSecond).toLocaleString('en-US')).join(', ');
}

/**
 * Sealed 1:1 end to end against the same harness unsealed and against raw
 * libsignal, interleaved (order rotated each round); the figure is the median round.
 */
export async function sealedSection(): Promise<Metric[]> {
  const { messages, warmup, batch, rounds, rawPlaintextBytes } = SEALED;
  console.log(
    `\n[sealed] ${messages} messages per run end to end (+${warmup} warm-up), batches of ${batch}, ${rounds} rounds`,
  );
  const sealedRuns: PathThroughput[] = [];
  const unsealedRuns: PathThroughput[] = [];
  const raw: Throughput[] = [];
  const variants = [
    async () => sealedRuns.push(await sottoEndToEnd('sealed', messages, warmup, batch)),
    async () => unsealedRuns.push(await sottoEndToEnd('unsealed', messages, warmup, batch)),
    async () => raw.push(await rawEndToEnd(messages, warmup, rawPlaintextBytes)),
  ];
  const sealed: Throughput[] = [];
  const unsealed: Throughput[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < variants.length; i++) await variants[(round + i) % variants.length]!();
    sealed.push(sealedRuns.at(-1)!.endToEnd);
    unsealed.push(unsealedRuns.at(-1)!.endToEnd);
    const last = (runs: Throughput[]) => Math.round(runs.at(-1)!.perSecond).toLocaleString('en-US');
    console.log(
      `  round ${round + 1}: sealed ${last(sealed)}/s, unsealed ${last(unsealed)}/s, raw ${last(raw)}/s`,
    );
  }
  const sealedReceive = sealedRuns.map((r) => r.receive);
  const unsealedReceive = unsealedRuns.map((r) => r.receive);
  const sealedRate = median(sealed);
  const unsealedRate = median(unsealed);
  const rawRate = median(raw);
  const unsealedBaseline = { name: 'unsealed', value: unsealedRate };
  return [
    {
      section: SECTION,
      name: 'raw libsignal encrypt+decrypt',
      value: rawRate,
      unit: 'msg/s',
      note: `in-memory stores; ${rawPlaintextBytes}-byte plaintexts; rounds: ${list(raw)}`,
    },
    {
      section: SECTION,
      name: 'Sotto 1:1 unsealed (inner messages only)',
      value: unsealedRate,
      unit: 'msg/s',
      baseline: { name: 'raw libsignal', value: rawRate },
      note: `queue, encrypt+commit, mark sent, decrypt+commit; rounds: ${list(unsealed)}`,
    },
    {
      section: SECTION,
      name: 'Sotto 1:1 sealed',
      value: sealedRate,
      unit: 'msg/s',
      baseline: unsealedBaseline,
      note: `+ self-issued certificate, seal, unseal and the four acceptance checks; rounds: ${list(sealed)}`,
    },
    {
      section: SECTION,
      name: 'sealed / unsealed',
      value: sealedRate / unsealedRate,
      unit: '×',
      target: { op: '>=', value: 0.8 },
    },
    {
      section: SECTION,
      name: 'receiving alone: sealed / unsealed',
      value: median(sealedReceive) / median(unsealedReceive),
      unit: '×',
      note: `processEnvelopes (unseal, 4 checks, decrypt, commit) ${Math.round(median(sealedReceive))}/s vs inner messages only ${Math.round(median(unsealedReceive))}/s; rounds: ${list(sealedReceive)} vs ${list(unsealedReceive)}`,
    },
  ];
}
