import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

// The relay CLI (`bin/sotto-relay.js`) as a real child process: the built
// out/relay (build/cli.mjs; the integration and e2e projects build it first,
// `npm run bench` too), as in production. The bench (bench/sync) starts its
// relay with this too, so this file must not import vitest or any test
// support that does.

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RELAY_BIN = 'bin/sotto-relay.js';
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const REBIND_ATTEMPTS = 20;
const REBIND_PAUSE_MS = 250;

/**
 * Every test client connects from 127.0.0.1, so the per-address caps (sized
 * for one household behind one address) would make unrelated tests flaky:
 * these replace them unless a test passes its own (later flags win).
 */
export const LOOPBACK_TEST_ARGS: readonly string[] = [
  '--max-connections-per-address',
  '100000',
  '--budget',
  'address-sends=1000000/100000',
  '--budget',
  'address-bytes=10000000000/1000000000',
  '--budget',
  'address-fetches=100000/10000',
  '--budget',
  'address-blob-requests=100000/10000',
];

/** Which store a relay gets for a data directory: by default `--data DIR` (embedded SQLite). */
let storeArgs: (dataDir: string) => Promise<readonly string[]> = (dataDir) =>
  Promise.resolve(['--data', dataDir]);

/**
 * Makes every relay this test file starts use another store (the relay suites
 * re-run on PostgreSQL: tests/integration/relay/postgres/). `args` gets the
 * data directory the test asked for and returns the store's arguments.
 */
export function useRelayStore(args: (dataDir: string) => Promise<readonly string[]>): void {
  storeArgs = args;
}

/** How to start a relay process. */
export interface RelayProcessOptions {
  /** The port to listen on (default 0: any free port). */
  readonly port?: number;
  /** More CLI arguments, after `--port P --data DIR --host 127.0.0.1` and LOOPBACK_TEST_ARGS. */
  readonly args?: readonly string[];
  /** Variables added to this process's environment (e.g. SOTTO_RELAY_LOG). */
  readonly env?: NodeJS.ProcessEnv;
  /** Called (and awaited) each time a start on a fixed `port` found it taken, before the next try. */
  readonly onPortTaken?: () => Promise<void> | void;
}

/** A `sotto-relay` child process listening on loopback. */
export interface RelayProcess {
  /** `ws://127.0.0.1:PORT/v2` (`wss://` with TLS), as the relay printed it. */
  readonly url: string;
  /** The relay's id (22 base64url characters), as the relay printed it. */
  readonly relayId: string;
  readonly port: number;
  /** The operations port (/healthz, /metrics) as the relay printed it; undefined without --ops-port. */
  readonly opsPort: number | undefined;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM (SIGKILL after 10 s), then the exit code once the process has exited (null if a signal ended it). */
  stop(): Promise<number | null>;
}

function spawnRelay(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [RELAY_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts `bin/sotto-relay.js --port P --data DIR --host 127.0.0.1 …` (or the store useRelayStore chose) and waits for its listening line. */
export async function startRelayProcess(
  dataDir: string,
  options: RelayProcessOptions = {},
): Promise<RelayProcess> {
  // A restart on the port a stopped relay had: while it was down another
  // process (a parallel test's connection or server) may hold it for a moment.
  const port = options.port ?? 0;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(dataDir, options);
    } catch (error) {
      const taken = String(error).includes(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      if (port === 0 || !taken || attempt === REBIND_ATTEMPTS) throw error;
      await options.onPortTaken?.();
      await new Promise((resolve) => setTimeout(resolve, REBIND_PAUSE_MS));
    }
  }
}

async function startOnce(
  dataDir: string,
  { port = 0, args = [], env = {} }: RelayProcessOptions,
): Promise<RelayProcess> {
  const child = spawnRelay(
    [
      '--port',
      String(port),
      ...(await storeArgs(dataDir)),
      '--host',
      '127.0.0.1',
      ...LOOPBACK_TEST_ARGS,
      ...args,
    ],
    env,
  );
  let stdout = '';
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const { url, relayId } = await new Promise<{ url: string; relayId: string }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`relay did not start: ${output}`)),
        START_TIMEOUT_MS,
      );
      child.stdout.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        stdout += text;
        output += text;
        const match =
          /^sotto-relay listening on (wss?:\/\/\S+) relay-id ([A-Za-z0-9_-]{22})$/m.exec(stdout);
        if (match?.[1] && match[2]) {
          clearTimeout(timer);
          resolve({ url: match[1], relayId: match[2] });
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`relay exited (${code}) before listening: ${output}`));
      });
    },
  );
  const opsLine = /^sotto-relay operations on http:\/\/\S+:(\d+)$/m.exec(stdout);
  return {
    url,
    relayId,
    port: Number(new URL(url).port),
    opsPort: opsLine?.[1] === undefined ? undefined : Number(opsLine[1]),
    pid: child.pid ?? 0,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

/** Runs the relay CLI to completion (for --help and argument errors). */
export async function runRelayCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnRelay(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) =>
    child.once('exit', (exitCode) => resolve(exitCode)),
  );
  return { code, stdout, stderr };
}

/** The operations port of a relay started with `--ops-port` (0 lets the kernel choose: no port race with other tests). */
export function opsPortOf(relay: RelayProcess): number {
  if (relay.opsPort === undefined) throw new Error('this relay was started without --ops-port');
  return relay.opsPort;
}

/** A loopback port held (listened on) until close(), or `port` if given. */
export async function holdPort(port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
