import type { KdfCost } from '../../electron/core/index.ts';
import { RECEIVE_BATCH } from '../../electron/core/sync/engine.ts';

/**
 * Deliberately weak Argon2id cost for bench profiles (the product default is
 * ~0.5 s per unlock). Same values as the tests' TEST_KDF, defined here because
 * tests/support registers vitest hooks.
 */
export const BENCH_KDF: KdfCost = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

/** Messages in the history benchmark: BENCH_MESSAGES (e.g. 100000 or 100_000), default 1,000,000. */
export function historyMessageCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['BENCH_MESSAGES'];
  if (raw === undefined || raw.trim() === '') return 1_000_000;
  const value = Number(raw.replace(/[_,]/g, ''));
  if (!Number.isInteger(value) || value < 10_000) {
    throw new Error(`BENCH_MESSAGES must be an integer ≥ 10000, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Conversations the history is spread across. */
export const HISTORY_CONVERSATIONS = 200;

/** Receive benchmark shape: messages timed per run, untimed warm-up, batch size, runs per variant. */
export const RECEIVE = {
  messages: 3000,
  warmup: 200,
  /** The sync engine's own batch size: the pipeline is measured as it runs. */
  batch: RECEIVE_BATCH,
  rounds: 5,
  rawPlaintextBytes: 200,
} as const;
