import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

// A throwaway PostgreSQL server for the relay's tests and benches: initdb into
// a temporary directory, `postgres` on a free loopback port, stopped (and the
// directory removed) by stop(). initdb refuses to run as root, and CI runs as
// root: then every server binary runs as the `postgres` user that Debian's
// package creates (runuser), and the directory is handed to that user.
// Test speed only: fsync=off (never a durability promise; the crash tests
// that need one pass `durable: true`). Must not import vitest (bench uses it).

const run = promisify(execFile);
const START_TIMEOUT_MS = 60_000;

/** The directory holding initdb, postgres and pg_ctl (PATH first, then Debian's versioned dirs). */
export function postgresBinDir(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':'))
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = join(root, version, 'bin');
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  return undefined;
}

/** A port nobody listens on right now (the kernel's pick on 127.0.0.1). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

class PostgresStartError extends Error {
  constructor(readonly log: string) {
    super(`postgres did not start: ${log}`);
  }
}

/** A running throwaway server. */
export interface TestPostgres {
  readonly port: number;
  /** `postgres://relay@127.0.0.1:PORT/NAME`. */
  url(database: string): string;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** `pg_ctl stop -m immediate` (a crash: no checkpoint, recovery at the next start). */
  crash(): Promise<void>;
  /** Starts the server again on the same port and data directory (after crash()). */
  restart(): Promise<void>;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
  /** The postmaster's process id (the bench reads its and its backends' CPU time). */
  postmasterPid(): number;
}

const asPostgresUser = (command: string, args: readonly string[]): [string, string[]] =>
  process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, [...args]];

/** Starts a server in a new temporary directory; throws if PostgreSQL is not installed. */
export async function startTestPostgres(
  options: { durable?: boolean; settings?: Readonly<Record<string, string>> } = {},
): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (bin === undefined)
    throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'sotto-pg-'));
  if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  const [initdb, initArgs] = asPostgresUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'relay',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-instructions',
  ]);
  await run(initdb, initArgs);
  let port = await freePort();
  let server: ChildProcess | undefined;
  let databases = 0;
  const speed = options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off'];
  // Extra server settings of one bench or test (e.g. pg_stat_statements), never product defaults.
  const extra = Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]);

  const start = async () => {
    const [command, args] = asPostgresUser(join(bin, 'postgres'), [
      '-D',
      data,
      '-k',
      dir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'idle_in_transaction_session_timeout=30s',
      ...speed,
      ...extra,
    ]);
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    server = child;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const client = new pg.Client({
        host: '127.0.0.1',
        port,
        user: 'relay',
        database: 'postgres',
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (child.exitCode !== null || Date.now() > deadline) throw new PostgresStartError(log);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  const postmasterPid = () =>
    Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);

  const stopServer = async (signal: NodeJS.Signals) => {
    const child = server;
    server = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The postmaster itself (runuser does not forward every signal): SIGQUIT is
    // `pg_ctl stop -m immediate`, SIGINT `-m fast`.
    process.kill(postmasterPid(), signal);
    await exited;
  };

  // freePort's port can be taken by another process before the postmaster
  // binds it (parallel test files): then another port, a few times.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await start();
      break;
    } catch (error) {
      const taken = error instanceof PostgresStartError && error.log.includes('already in use');
      if (!taken || attempt === 5) throw error;
      port = await freePort();
    }
  }
  const url = (database: string) => `postgres://relay@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async createDatabase() {
      databases += 1;
      const name = `relay_${databases}_${process.pid}`;
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      return url(name);
    },
    postmasterPid,
    crash: () => stopServer('SIGQUIT'),
    restart: start,
    async stop() {
      await stopServer('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
