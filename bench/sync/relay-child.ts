import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The real relay (`bin/sotto-relay.js`) as a child process on loopback, as
// tests/support/relay-process.ts starts it; defined here so the bench does not
// depend on test support files.

const RELAY_BIN = join(import.meta.dirname, '..', '..', 'bin', 'sotto-relay.js');

/** A running relay child. */
export interface RelayChild {
  /** `ws://127.0.0.1:PORT/v1`, as the relay printed it. */
  readonly url: string;
  readonly pid: number;
  /** Everything the child wrote (stdout and stderr). */
  readonly output: () => string;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

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
export async function startRelayChild(dataDir: string): Promise<RelayChild> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [RELAY_BIN, '--port', '0', '--data', dataDir, '--host', '127.0.0.1'],
    { stdio: 'pipe', env: { ...process.env, SOTTO_RELAY_LOG: 'warn' } },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${output}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (ws:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited (${code}): ${output}`));
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
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
