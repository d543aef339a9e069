import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `sotto` and `sotto-relay` run as built JavaScript (out/, build/cli.mjs,
// issue 11 §4): no TypeScript loader, and `sotto --help` or an argument error
// loads none of the heavy modules (native addons, zxcvbn, zod). Each run gets
// a recording resolve hook (module.register, --import) that writes every
// module URL the process resolves, in every thread, to a file: what was
// loaded is observed, not assumed. The hook is not a TypeScript loader.

const REPO = process.cwd();
const HOOK = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}
`;
const REGISTER = `import { register } from 'node:module';
register(new URL('./hook.mjs', import.meta.url), { data: { log: process.env.RESOLVE_LOG } });
`;

/** Modules `--help` must never load: what made start-up slow (native addons, dictionaries, schemas, the loader). */
const HEAVY =
  /\/node_modules\/(@signalapp|@zxcvbn-ts|@node-rs|zod|tsx|ws|age-encryption|@inquirer)\//;

let dir: string;
let runs = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sotto-startup-'));
  await writeFile(join(dir, 'hook.mjs'), HOOK);
  await writeFile(join(dir, 'register.mjs'), REGISTER);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface TracedRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every module URL resolved, in the order resolved. */
  readonly resolved: readonly string[];
}

/** Runs `node --import <recording hook> script ...args` and collects what it resolved. */
async function traced(
  script: string,
  args: readonly string[],
  until?: RegExp,
  env: Record<string, string> = {},
): Promise<TracedRun> {
  const log = join(dir, `resolved-${(runs += 1)}.txt`);
  await writeFile(log, '');
  const child = spawn(process.execPath, ['--import', join(dir, 'register.mjs'), script, ...args], {
    cwd: REPO,
    env: {
      ...process.env,
      RESOLVE_LOG: log,
      NODE_OPTIONS: '',
      SOTTO_PASSPHRASE: 'correct horse battery staple',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (until?.test(stdout)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const resolved = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  return { code, stdout, stderr, resolved };
}

const typeScript = (urls: readonly string[]) => urls.filter((url) => /\.[mc]?tsx?$/.test(url));
const heavy = (urls: readonly string[]) => urls.filter((url) => HEAVY.test(url));

describe('sotto runs built JavaScript', () => {
  it('--help comes from out/cli without the TypeScript loader or any heavy module', async () => {
    const run = await traced('bin/sotto.js', ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: sotto \[options\] \[command\]/);
    expect(run.stdout).toContain('backup file problem (BACKUP_TAMPERED');
    // The hook saw the run (an empty log would prove nothing).
    expect(run.resolved.some((url) => url.endsWith('/out/cli/sotto.js'))).toBe(true);
    expect(run.resolved.some((url) => url.includes('/node_modules/commander/'))).toBe(true);
    expect(typeScript(run.resolved)).toEqual([]);
    expect(heavy(run.resolved)).toEqual([]);
    // No command's implementation chunk either: only definitions are loaded.
    expect(
      run.resolved.filter((url) =>
        /\/out\/cli\/(profile|backup|sync|messages|contacts|export|identity)-/.test(url),
      ),
    ).toEqual([]);
  });

  it('a subcommand help and argument errors (exit 2) load nothing heavy either', async () => {
    for (const args of [
      ['backup', 'import', '--help'],
      ['history'],
      ['init', '--relay', 'ws://127.0.0.1:1/v2', '--name', 'A', '--kdf-memory', '0'],
      ['export', '--format', 'pdf', 'Bob', 'out.pdf'],
      ['identity', 'reset'],
      ['no-such-command'],
    ]) {
      const run = await traced('bin/sotto.js', ['--profile', join(dir, 'never-created'), ...args]);
      expect(run.code, args.join(' ')).toBe(args.includes('--help') ? 0 : 2);
      expect(typeScript(run.resolved), args.join(' ')).toEqual([]);
      expect(heavy(run.resolved), args.join(' ')).toEqual([]);
    }
  });

  it('a real command loads its implementation from the built chunks, still without TypeScript', async () => {
    const run = await traced('bin/sotto.js', [
      '--profile',
      join(dir, 'no-profile-here'),
      'contacts',
    ]);
    expect(run.code).toBe(4); // PROFILE_NOT_FOUND
    expect(run.stderr).toContain('PROFILE_NOT_FOUND');
    expect(run.resolved.some((url) => /\/out\/cli\/contacts-[A-Z0-9]+\.js$/.test(url))).toBe(true);
    expect(run.resolved.some((url) => url.includes('/node_modules/@signalapp/'))).toBe(true);
    expect(typeScript(run.resolved)).toEqual([]);
    // It checks no new passphrase and shows no prompt (the passphrase is in the environment):
    // zxcvbn's dictionaries and the prompt library stay unloaded.
    expect(
      run.resolved.filter((url) => /\/node_modules\/(@zxcvbn-ts|@inquirer)\//.test(url)),
    ).toEqual([]);
  });

  it('a command that rates a new passphrase loads zxcvbn when it rates it, and refuses a weak one', async () => {
    const profile = join(dir, 'weak-init');
    const run = await traced(
      'bin/sotto.js',
      ['--profile', profile, 'init', '--relay', 'ws://127.0.0.1:1/v2', '--name', 'Ann'],
      undefined,
      { SOTTO_PASSPHRASE: 'password1' },
    );
    expect(run.stderr).toContain('WEAK_PASSPHRASE');
    expect(run.code).not.toBe(0);
    for (const dictionary of ['core', 'language-common', 'language-en'])
      expect(
        run.resolved.some((url) => url.includes(`/node_modules/@zxcvbn-ts/${dictionary}/`)),
      ).toBe(true);
    // Refused before anything was written: not even the directory was made.
    await expect(readdir(profile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a bin whose build is missing says how to build it, exit 1, instead of a stack trace', async () => {
    const copy = join(dir, 'unbuilt');
    await mkdir(join(copy, 'bin'), { recursive: true });
    for (const bin of ['sotto.js', 'sotto-relay.js']) {
      await copyFile(join(REPO, 'bin', bin), join(copy, 'bin', bin));
      const run = await traced(join(copy, 'bin', bin), ['--help']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/not built yet: run `npm run build:cli`/);
      expect(run.stderr).not.toContain('    at ');
    }
  });
});

describe('the build', () => {
  it('is what the sources say: building again (as the globalSetup did) changes no entry', async () => {
    const entries = ['out/cli/sotto.js', 'out/relay/cli.js', 'out/relay/storage-worker.js'].map(
      (file) => join(REPO, file),
    );
    const before = await Promise.all(entries.map((file) => readFile(file, 'utf8')));
    const { stdout } = await promisify(execFile)(process.execPath, ['build/cli.mjs'], {
      cwd: REPO,
    });
    expect(stdout).toMatch(/^built sotto and sotto-relay/);
    expect(await Promise.all(entries.map((file) => readFile(file, 'utf8')))).toEqual(before);
    // Plain JavaScript: no TypeScript syntax survived, and no source file is imported.
    for (const text of before)
      expect(text).not.toMatch(/from ["'][^"']+\.ts["']|import\(["'][^"']+\.ts["']\)/);
  });
});

describe('sotto-relay runs built JavaScript', () => {
  it('--help comes from out/relay without the TypeScript loader, the server or its packages', async () => {
    const run = await traced('bin/sotto-relay.js', ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: sotto-relay --data DIR/);
    expect(run.resolved.some((url) => url.endsWith('/out/relay/cli.js'))).toBe(true);
    expect(typeScript(run.resolved)).toEqual([]);
    expect(
      run.resolved.filter((url) =>
        /\/node_modules\/(tsx|ws|@signalapp)\/|\/out\/relay\/server-/.test(url),
      ),
    ).toEqual([]);
  });

  it('a running relay (main thread and storage worker) uses the built files only', async () => {
    const run = await traced(
      'bin/sotto-relay.js',
      ['--port', '0', '--host', '127.0.0.1', '--data', join(dir, 'relay-data')],
      /^sotto-relay listening on ws:\/\/127\.0\.0\.1:\d+\/v2 relay-id \S{22}$/m,
    );
    expect(run.stdout).toMatch(/listening on ws:\/\//);
    expect(run.code).toBe(0); // SIGTERM: a clean shutdown
    // The storage worker is a thread of its own: it was started from out/relay too.
    expect(run.resolved.some((url) => url.endsWith('/out/relay/storage-worker.js'))).toBe(true);
    expect(run.resolved.some((url) => url.includes('/node_modules/ws/'))).toBe(true);
    expect(typeScript(run.resolved)).toEqual([]);
    expect(run.resolved.filter((url) => url.includes('/node_modules/tsx/'))).toEqual([]);
  });
});
