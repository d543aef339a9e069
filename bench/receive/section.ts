import { RECEIVE } from '../support/config.ts';
import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';
import { rawLibsignalDecrypts, type Throughput } from './raw-libsignal.ts';
import { sottoReceiveDecrypts } from './sotto-receive.ts';

const SECTION = 'receive';

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
 * Benchmark 1: the receive pipeline (decrypt + commit) against raw libsignal.
 * The three variants run interleaved (order rotated each round),
 * `RECEIVE.rounds` times each; the figure is the median round.
 */
export async function receiveSection(): Promise<Metric[]> {
  const { messages, warmup, batch, rounds, rawPlaintextBytes } = RECEIVE;
  console.log(
    `\n[receive] ${messages} Whisper messages per run (+${warmup} warm-up), batches of ${batch}, ${rounds} rounds`,
  );
  const raw: Throughput[] = [];
  const sotto: Throughput[] = [];
  const uncached: Throughput[] = [];
  const variants = [
    async () => raw.push(await rawLibsignalDecrypts(messages, warmup, rawPlaintextBytes, true)),
    async () => sotto.push(await sottoReceiveDecrypts(messages, warmup, batch)),
    async () => uncached.push(await sottoReceiveDecrypts(messages, warmup, batch, 0)),
  ];
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no variant always runs first (cold) or last.
    for (let i = 0; i < variants.length; i++) await variants[(round + i) % variants.length]!();
    const last = (runs: Throughput[]) => Math.round(runs.at(-1)!.perSecond).toLocaleString('en-US');
    console.log(
      `  round ${round + 1}: raw ${last(raw)}/s, sotto ${last(sotto)}/s, sotto cache=0 ${last(uncached)}/s`,
    );
  }

  const rawRate = median(raw);
  const sottoRate = median(sotto);
  const uncachedRate = median(uncached);
  const rawBaseline = { name: 'raw libsignal', value: rawRate };
  return [
    {
      section: SECTION,
      name: 'raw libsignal unseal+validate+decrypt (baseline)',
      value: rawRate,
      unit: 'decrypts/s',
      note: `sealed sender as Sotto sends it; in-memory stores that (de)serialize records; ${rawPlaintextBytes}-byte plaintexts; rounds: ${list(raw)}`,
    },
    {
      section: SECTION,
      name: 'Sotto processEnvelopes (unseal+decrypt+commit)',
      value: sottoRate,
      unit: 'decrypts/s',
      baseline: rawBaseline,
      note: `content ≈200 B JSON padded to 320 B; one SQLCipher commit per ${batch}; rounds: ${list(sotto)}`,
    },
    {
      section: SECTION,
      name: 'Sotto / raw libsignal',
      value: sottoRate / rawRate,
      unit: '×',
      target: { op: '>=', value: 0.7 },
    },
    {
      section: SECTION,
      name: 'Sotto processEnvelopes, sessionCacheSize 0',
      value: uncachedRate,
      unit: 'decrypts/s',
      baseline: rawBaseline,
      note: `rounds: ${list(uncached)}`,
    },
    {
      section: SECTION,
      name: 'hot-session cache speed-up',
      value: sottoRate / uncachedRate,
      unit: '×',
      note: 'Sotto with the default cache / Sotto with sessionCacheSize 0',
    },
  ];
}
