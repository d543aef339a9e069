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

/** Starts `sotto-relay --port 0 --data dataDir` and waits for its `listening on ws://…` line. */
export function startRelayChild(dataDir: string): Promise<RelayProcess> {
  return startRelayProcess(dataDir, { env: { SOTTO_RELAY_LOG: 'warn' } });
}

/** Runs `body` against a fresh relay child (own data directory), stopping it afterwards. */
export async function withRelay<T>(body: (url: string) => Promise<T>, dataDir: string): Promise<T> {
  const relay = await startRelayChild(dataDir);
  try {
    return await body(relay.url);
  } finally {
    await relay.stop();
  }
}
