import { execFile, execFileSync } from 'node:child_process';
import { openSync, closeSync, writeSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { buildHistory } from '../history/build.ts';
import { HISTORY_CONVERSATIONS } from '../support/config.ts';
import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';

const run = promisify(execFile);
const SECTION = 'backup';
const PASSPHRASE = 'bench backup passphrase: quiet harbour lanterns';
const CHILD = join(import.meta.dirname, 'child.ts');
const AGE_PASSPHRASE = join(import.meta.dirname, 'age-passphrase.py');

interface ChildResult {
  readonly ms: number;
  readonly bytes: number;
  /** scrypt's own duration. */
  readonly kdfMs: number;
  /** verify: the time after scrypt returned; export-apart: the streaming alone (scrypt held back until it ends). */
  readonly streamMs: number;
  /** The whole process's peak, scrypt included. */
  readonly peakMB: number;
  /** verify: the peak after scrypt returned; export-apart: the peak of the streaming alone. */
  readonly streamingPeakMB: number;
}

async function child(
  mode: 'export' | 'export-apart' | 'verify',
  dir: string,
  file: string,
): Promise<ChildResult> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', CHILD, mode, dir, 'bench history passphrase', file, PASSPHRASE],
    {
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout) as ChildResult;
}

/** A file of `bytes` random bytes in `dir`, read once so the page cache holds it. */
function randomPayload(bytes: number, dir: string): string {
  const payload = join(dir, 'payload');
  const fd = openSync(payload, 'w');
  const block = randomBytes(1 << 20);
  for (let written = 0; written < bytes; written += block.length)
    writeSync(fd, block, 0, Math.min(block.length, bytes - written));
  closeSync(fd);
  return payload;
}

/** The `age` CLI encrypting `payload` to an X25519 recipient (no passphrase prompt, no KDF): MB/s. */
function ageCliRecipient(payload: string, bytes: number, dir: string): number {
  const key = join(dir, 'age.key');
  execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
  execFileSync('age', ['-e', '-r', recipient, '-o', join(dir, 'warm.age'), payload]); // warm the page cache
  const started = performance.now();
  execFileSync('age', ['-e', '-r', recipient, '-o', join(dir, 'payload.age'), payload]);
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

/**
 * The `age` CLI encrypting `payload` with a passphrase, as a Sotto backup is
 * (scrypt at age's default 2^18, then the same STREAM payload): MB/s, the
 * median of three runs. age reads a passphrase only from a terminal:
 * age-passphrase.py types it into a pseudo-terminal and times the process.
 */
function ageCliPassphrase(payload: string, bytes: number, dir: string): number {
  const runs = [0, 1, 2].map(() => {
    const out = execFileSync(
      'python3',
      [AGE_PASSPHRASE, payload, join(dir, 'payload-p.age'), PASSPHRASE],
      { encoding: 'utf8' },
    );
    return (JSON.parse(out) as { seconds: number }).seconds;
  });
  return bytes / 1e6 / percentile(runs, 50);
}

const mbps = (r: ChildResult) => r.bytes / 1e6 / (r.ms / 1000);
/** The stream's rate without the KDF: verify after scrypt returned, export in its run with scrypt held back. */
const mbpsNoKdf = (r: ChildResult) => r.bytes / 1e6 / (r.streamMs / 1000);

/**
 * Benchmark 5: export and verify of a `total`-message profile, each in its
 * own process at the product scrypt cost (2^18), against the age CLI
 * encrypting a payload of the same size in the same run; peak RSS at a
 * quarter of the size and at full size shows memory does not grow with history.
 */
export async function backupSection(total: number): Promise<Metric[]> {
  const small = Math.max(10_000, Math.round(total / 4));
  console.log(
    `\n[backup] profiles of ${small.toLocaleString('en-US')} and ${total.toLocaleString('en-US')} messages…`,
  );
  const results: { n: number; exp: ChildResult; apart: ChildResult; ver: ChildResult }[] = [];
  let ageMBps = 0;
  let agePassphraseMBps = 0;
  for (const n of [small, total]) {
    const dir = join(tempDir('sotto-bench-backup-'), 'profile');
    const built = await buildHistory(dir, 'bench history passphrase', n, HISTORY_CONVERSATIONS);
    await built.profile.close();
    const file = join(dir, '..', 'backup.age');
    const exp = await child('export', dir, file);
    // Export seals while scrypt runs: its streaming figures come from a second run with scrypt held back.
    const apart = await child('export-apart', dir, join(dir, '..', 'backup-apart.age'));
    const ver = await child('verify', dir, file);
    console.log(
      `  ${n.toLocaleString('en-US')} messages: ${(exp.bytes / 1e6).toFixed(1)} MB; export ${(exp.ms / 1000).toFixed(2)} s (scrypt ${(exp.kdfMs / 1000).toFixed(2)} s), verify ${(ver.ms / 1000).toFixed(2)} s; peak RSS ${exp.peakMB.toFixed(0)} / ${ver.peakMB.toFixed(0)} MB`,
    );
    if (n === total) {
      const bytes = statSync(file).size;
      const payload = randomPayload(bytes, join(dir, '..'));
      ageMBps = ageCliRecipient(payload, bytes, join(dir, '..'));
      agePassphraseMBps = ageCliPassphrase(payload, bytes, join(dir, '..'));
    }
    results.push({ n, exp, apart, ver });
  }
  const [q, f] = results as [(typeof results)[number], (typeof results)[number]];
  const baseline = { name: 'age CLI encrypt', value: ageMBps };
  const label = (n: number) => `${(n / 1000).toLocaleString('en-US')}k`;
  const withKdf = { name: 'age CLI encrypt with a passphrase', value: agePassphraseMBps };
  console.log(
    `  age CLI: ${ageMBps.toFixed(0)} MB/s to a recipient, ${agePassphraseMBps.toFixed(0)} MB/s with a passphrase`,
  );
  return [
    {
      section: SECTION,
      name: 'age CLI encrypt with a passphrase, same size (baseline)',
      value: agePassphraseMBps,
      unit: 'MB/s',
      note: 'age -p (scrypt 2^18 as a backup, passphrase typed into a pty), random payload of the backup file size, median of 3',
    },
    {
      section: SECTION,
      name: 'age CLI encrypt, same size (baseline)',
      value: ageMBps,
      unit: 'MB/s',
      note: 'age -e -r (X25519 recipient: no passphrase prompt, no KDF), random payload of the backup file size, warm page cache',
    },
    {
      section: SECTION,
      name: `export ${label(total)}`,
      value: mbps(f.exp),
      unit: 'MB/s',
      baseline: withKdf,
      target: { op: '>=', value: agePassphraseMBps / 2 },
      note: `${(f.exp.bytes / 1e6).toFixed(0)} MB in ${(f.exp.ms / 1000).toFixed(2)} s, including scrypt 2^18 (${(f.exp.kdfMs / 1000).toFixed(2)} s)`,
    },
    {
      section: SECTION,
      name: `export ${label(total)}, without the KDF`,
      value: mbpsNoKdf(f.apart),
      unit: 'MB/s',
      baseline,
      note: `a second export with scrypt held back until the last record is sealed: the streaming alone (${(f.apart.streamMs / 1000).toFixed(2)} s)`,
    },
    {
      section: SECTION,
      name: `verify ${label(total)}`,
      value: mbps(f.ver),
      unit: 'MB/s',
      baseline: withKdf,
      target: { op: '>=', value: agePassphraseMBps / 2 },
      note: `authenticate every chunk, SHA-256, counts; including scrypt (${(f.ver.kdfMs / 1000).toFixed(2)} s)`,
    },
    {
      section: SECTION,
      name: `verify ${label(total)}, after the KDF`,
      value: mbpsNoKdf(f.ver),
      unit: 'MB/s',
      baseline,
      note: 'from scrypt returning (the file key is needed to read anything) to the end',
    },
    ...results.flatMap(({ n, exp, apart, ver }) => [
      {
        section: SECTION,
        name: `export ${label(n)}: peak RSS while streaming`,
        value: apart.streamingPeakMB,
        unit: 'MB',
        target: { op: '<=' as const, value: 250 },
        note: 'the run with scrypt held back: high-water mark from the start to the last record sealed',
      },
      {
        section: SECTION,
        name: `verify ${label(n)}: peak RSS while streaming`,
        value: ver.streamingPeakMB,
        unit: 'MB',
        target: { op: '<=' as const, value: 250 },
      },
      {
        section: SECTION,
        name: `export ${label(n)}: peak RSS incl. scrypt`,
        value: exp.peakMB,
        unit: 'MB',
        note: "scrypt at age's 2^18 needs 256 MiB by itself, whatever the history size",
      },
      {
        section: SECTION,
        name: `verify ${label(n)}: peak RSS incl. scrypt`,
        value: ver.peakMB,
        unit: 'MB',
      },
    ]),
    {
      section: SECTION,
      name: `export peak RSS while streaming, ${label(total)} vs ${label(q.n)}`,
      value: f.apart.streamingPeakMB / q.apart.streamingPeakMB,
      unit: '×',
      note: 'flat: about 1× as history grows 4×',
    },
    {
      section: SECTION,
      name: `verify peak RSS while streaming, ${label(total)} vs ${label(q.n)}`,
      value: f.ver.streamingPeakMB / q.ver.streamingPeakMB,
      unit: '×',
      note: 'flat: about 1× as history grows 4×',
    },
  ];
}
