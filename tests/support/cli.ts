import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { addContactFromInvite, Profile } from '../../electron/core/index.ts';
import { profileInvite } from '../../electron/core/profile/invite.ts';
import { SyncEngine } from '../../electron/core/sync/engine.ts';
import { setHomeRelay } from '../../electron/core/sync/home-relay-setting.ts';
import { TEST_KDF } from './test-kdf.ts';

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

/**
 * What `sotto init --relay RELAY --name NAME` does, in this process: the same
 * core calls (a profile, its home relay, token and keys published). Returned
 * open, with the invite `sotto invite` would print. Its key is wrapped at
 * TEST_KDF, below the floor `init` accepts (tests reach weaker costs only
 * through the core, as here): every later `sotto` run on it unlocks it, and at
 * the floor (64 MiB × 3) that was ~0.1 s of CPU per run, hundreds of runs per
 * CI. Key files at the floor are still made by the tests that run `init`.
 */
async function initInProcess(dir: string, name: string, relay: string) {
  const profile = await Profile.create(dir, {
    displayName: name,
    passphrase: CLI_PASSPHRASE,
    kdfCost: TEST_KDF,
  });
  const engine = new SyncEngine(profile);
  try {
    setHomeRelay(profile, relay);
    await engine.registerToken();
    await engine.publishKeys();
    return { profile, invite: profileInvite(profile) };
  } catch (error) {
    await profile.close();
    throw error;
  } finally {
    await engine.close();
  }
}

/**
 * CLI profiles for `names`, in `root`/<name in lower case>: the first has added
 * each of the others from their invites and they it (the others are not each
 * other's contacts). Set up in this process through the calls `init`,
 * `invite` and `contact add` make: as CLI processes, each unlocking at the
 * floor cost, that took seconds per test. tests/integration/cli/groups.test.ts,
 * the e2e files and tests/integration/sync/cli-relay.test.ts run those
 * commands as real processes. All are closed again for the CLI.
 */
export async function cliContacts<const N extends string>(
  root: string,
  relay: string,
  names: readonly [N, ...N[]],
): Promise<Record<Lowercase<N>, string>> {
  const dirs = {} as Record<Lowercase<N>, string>;
  const people: Awaited<ReturnType<typeof initInProcess>>[] = [];
  try {
    for (const name of names) {
      const dir = join(root, name.toLowerCase());
      dirs[name.toLowerCase() as Lowercase<N>] = dir;
      people.push(await initInProcess(dir, name, relay));
    }
    const [first, ...others] = people;
    for (const other of others) {
      addContactFromInvite(other.profile, first!.invite);
      addContactFromInvite(first!.profile, other.invite);
    }
  } finally {
    for (const person of people) await person.profile.close();
  }
  return dirs;
}

/** Two CLI profiles, Alice and Bob, that have added each other from their invites (cliContacts). */
export function cliPair(root: string, relay: string): Promise<{ alice: string; bob: string }> {
  return cliContacts(root, relay, ['Alice', 'Bob']);
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
