import { readFileSync } from 'node:fs';
import { type RelayProcess, startRelayProcess } from '../../tests/support/relay-process.ts';

// The real relay (`bin/sotto-relay.js`) as a child process on loopback, started
// by the tests' launcher (tests/support/relay-process.ts, which imports no
// vitest), logging warnings only whatever the environment says.

/** Soft "Max open files" of a process, from /proc (undefined where /proc is unavailable). */
export function openFileLimit(pid: number | 'self' = 'self'): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/**
 * Budgets lifted for the throughput benchmarks, which send thousands of
 * messages to one mailbox from one connection on purpose (the flood benchmark
 * keeps the defaults: that is what it measures).
 */
export const THROUGHPUT_ARGS: readonly string[] = [
  '--budget',
  'destination-messages=100000000/100000000',
  '--budget',
  'destination-bytes=100000000000/100000000000',
  '--budget',
  'connection-sends=100000000/100000000',
  '--budget',
  'connection-bytes=100000000000/100000000000',
  '--budget',
  'device-fetches=100000000/100000000',
];

/** Starts `sotto-relay --port 0 --data dataDir …args` and waits for its `listening on ws://…` line. */
export function startRelayChild(
  dataDir: string,
  args: readonly string[] = [],
): Promise<RelayProcess> {
  return startRelayProcess(dataDir, { env: { SOTTO_RELAY_LOG: 'warn' }, args });
}

/** Runs `body` against a fresh relay child (own data directory, throughput budgets), stopping it afterwards. */
export async function withRelay<T>(body: (url: string) => Promise<T>, dataDir: string): Promise<T> {
  const relay = await startRelayChild(dataDir, THROUGHPUT_ARGS);
  try {
    return await body(relay.url);
  } finally {
    await relay.stop();
  }
}
