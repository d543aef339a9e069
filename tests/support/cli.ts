import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** What one `sotto` invocation did. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const CLI_PASSPHRASE = 'correct horse battery staple';

/** Runs the real CLI (`bin/sotto.js`: the build in out/cli, made by the integration project's globalSetup) as a child process. */
export function runCli(
  /** null: no --profile argument at all. */
  profileDir: string | null,
  args: string[],
  options: {
    input?: string;
    env?: Record<string, string>;
    onSpawn?: (kill: (signal: NodeJS.Signals) => void) => void;
    onStdout?: (output: string, kill: (signal: NodeJS.Signals) => void) => void;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(process.cwd(), 'bin/sotto.js'),
        ...(profileDir === null ? [] : ['--profile', profileDir]),
        ...args,
      ],
      {
        env: { ...process.env, SOTTO_PASSPHRASE: CLI_PASSPHRASE, ...options.env },
        stdio: 'pipe',
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, (signal) => child.kill(signal));
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
    options.onSpawn?.((signal) => child.kill(signal));
  });
}

/** Runs the CLI and fails the test with its stderr unless it exits 0. */
export async function cli(profileDir: string, args: string[], input?: string): Promise<string> {
  const result = await runCli(profileDir, args, input === undefined ? {} : { input });
  if (result.code !== 0)
    throw new Error(`sotto ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** Creates a profile with the CLI, at the lowest Argon2id cost the CLI accepts (KDF_FLOOR: faster than the default). */
export async function cliInit(profileDir: string, name: string, relay: string): Promise<void> {
  await cli(profileDir, [
    'init',
    '--relay',
    relay,
    '--name',
    name,
    '--kdf-memory',
    '64',
    '--kdf-iterations',
    '3',
  ]);
}

/** Two CLI profiles that have added each other from their invites. */
export async function cliPair(root: string, relay: string) {
  const alice = join(root, 'alice');
  const bob = join(root, 'bob');
  await cliInit(alice, 'Alice', relay);
  await cliInit(bob, 'Bob', relay);
  await cli(bob, ['contact', 'add', (await cli(alice, ['invite'])).trim()]);
  await cli(alice, ['contact', 'add', (await cli(bob, ['invite'])).trim()]);
  return { alice, bob };
}

/** `sotto history` as parsed JSON. */
export async function history(profileDir: string, contact: string, limit = 10_000) {
  return JSON.parse(
    await cli(profileDir, ['--json', 'history', contact, '--limit', String(limit)]),
  ) as {
    uuid: string;
    body: string;
    outgoing: boolean;
    status: string;
    sentAt: number;
  }[];
}
