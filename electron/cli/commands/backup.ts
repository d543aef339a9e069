import { createRequire } from 'node:module';
import password from '@inquirer/password';
import { type Command, Option } from 'commander';
import {
  type BackupManifest,
  type BackupProgress,
  checkPassphraseStrength,
  exportBackup,
  generateRecoveryKey,
  importBackup,
  kdfCostFromOptions,
  profilePaths,
  SottoError,
  verifyBackup,
} from '../../core/index.ts';
import { existsSync } from 'node:fs';
import { type GlobalOptions, print, profileDir, readPassphrase, withProfile } from '../context.ts';
import { parsePositive } from './profile.ts';

const appVersion = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

/** `backup export`, `backup verify`, `backup import`. */
export function registerBackupCommands(program: Command, globals: () => GlobalOptions): void {
  const backup = program
    .command('backup')
    .description('encrypted backups: one age file (docs/backup-format.md)')
    .addHelpText('after', '\nThe backup passphrase is read from SOTTO_BACKUP_PASSPHRASE, or asked for on the terminal.');

  backup
    .command('export')
    .description('write an encrypted backup of the whole profile')
    .argument('<file>', 'the backup file to write (replaced if it exists)')
    .option('--recovery-key', 'generate a recovery key instead of asking for a passphrase (printed once)')
    .addOption(workFactorOption())
    .action((file: string, options: { recoveryKey?: boolean; scryptWorkFactor?: number }) =>
      withProfile(globals(), async (profile) => {
        const g = globals();
        const recoveryKey = options.recoveryKey ? generateRecoveryKey() : undefined;
        const passphrase = recoveryKey ?? (await newBackupPassphrase());
        const report = await cancellable((signal) =>
          exportBackup(profile, file, {
            passphrase,
            appVersion,
            signal,
            onProgress: progressBar(),
            ...(options.scryptWorkFactor ? { scryptLogN: options.scryptWorkFactor } : {}),
          }),
        );
        print(g, { file, bytes: report.bytes, manifest: report.manifest, ...(recoveryKey ? { recoveryKey } : {}) }, () =>
          [
            `Backup written: ${file} (${formatBytes(report.bytes)}, ${plural(report.manifest.counts.message, 'message')}).`,
            ...(recoveryKey ? ['', 'Recovery key (write it down; it is shown only this once):', '', `  ${recoveryKey}`, ''] : []),
          ].join('\n'),
        );
      }),
    );

  backup
    .command('verify')
    .description('read and authenticate a whole backup file; print its manifest (no profile needed)')
    .argument('<file>', 'the backup file')
    .option('--deep', 'also validate every record, as an import does')
    .action(async (file: string, options: { deep?: boolean }) => {
      const passphrase = await readBackupPassphrase();
      const report = await cancellable((signal) => verifyBackup(file, passphrase, { deep: options.deep, signal, onProgress: progressBar() }));
      print(globals(), { ok: true, bytes: report.bytes, manifest: report.manifest }, () => describeManifest(report.manifest, report.bytes));
    });

  backup
    .command('import')
    .description('restore a backup: into the --profile directory if it has no profile, else merged into that profile')
    .argument('<file>', 'the backup file')
    .option('--kdf-memory <MiB>', 'Argon2id memory for a new profile\'s passphrase (default 256)', parsePositive)
    .option('--kdf-iterations <n>', 'Argon2id passes for a new profile (default 3)', parsePositive)
    .action(async (file: string, options: { kdfMemory?: number; kdfIterations?: number }) => {
      const g = globals();
      const backupPassphrase = await readBackupPassphrase();
      const exists = existsSync(profilePaths(profileDir(g)).keyFile);
      // The CLI floor (64 MiB x 3) before any passphrase is asked for, as `init` does; a merge keeps the profile's own cost.
      const kdfCost = exists ? undefined : kdfCostFromOptions({ memoryMiB: options.kdfMemory, iterations: options.kdfIterations });
      let profilePassphrase: string;
      if (exists) profilePassphrase = await readPassphrase();
      else {
        profilePassphrase = await readPassphrase('New profile passphrase');
        if (process.env['SOTTO_PASSPHRASE'] === undefined && (await readPassphrase('Repeat passphrase')) !== profilePassphrase) {
          throw new SottoError('INVALID_INPUT', 'passphrases differ');
        }
      }
      const report = await cancellable((signal) =>
        importBackup(profileDir(g), file, {
          passphrase: backupPassphrase,
          signal,
          onProgress: progressBar(),
          ...(kdfCost === undefined
            ? { unlock: { passphrase: profilePassphrase } }
            : { create: { passphrase: profilePassphrase, kdfCost } }),
        }),
      );
      const { manifest, ...counts } = report;
      print(g, { ...counts, accountId: manifest.accountId }, () =>
        [
          report.created
            ? `Restored ${plural(report.messagesInserted, 'message')} into a new profile (${manifest.accountId}).`
            : `Merged: ${plural(report.messagesInserted, 'new message')}, ${report.messagesSkipped} already present.`,
          ...(report.created ? ['Conversations resume on the next sync (sessions are re-established automatically).'] : []),
        ].join('\n'),
      );
    });
}

/** The hidden test/bench option that lowers scrypt's work factor; never a default. */
function workFactorOption(): Option {
  return new Option('--scrypt-work-factor <logN>', 'scrypt work factor (tests and benchmarks only)')
    .argParser(parsePositive)
    .hideHelp();
}

/** The backup passphrase: SOTTO_BACKUP_PASSPHRASE for scripts, else a hidden prompt. */
export async function readBackupPassphrase(message = 'Backup passphrase'): Promise<string> {
  const fromEnv = process.env['SOTTO_BACKUP_PASSPHRASE'];
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY) throw new SottoError('PASSPHRASE_REQUIRED', 'no terminal and no SOTTO_BACKUP_PASSPHRASE');
  return password({ message, mask: true });
}

/** A new backup passphrase: asked twice on a terminal, and rated before anything is written. */
async function newBackupPassphrase(): Promise<string> {
  const passphrase = await readBackupPassphrase('New backup passphrase');
  const strength = checkPassphraseStrength(passphrase);
  if (!strength.acceptable) {
    const advice = [strength.warning, ...strength.suggestions].filter(Boolean).join(' ');
    process.stderr.write(`sotto: that passphrase is too easy to guess (score ${strength.score}/4, need 3). ${advice}\n`);
    throw new SottoError('WEAK_PASSPHRASE');
  }
  if (process.env['SOTTO_BACKUP_PASSPHRASE'] === undefined && (await readBackupPassphrase('Repeat backup passphrase')) !== passphrase) {
    throw new SottoError('INVALID_INPUT', 'passphrases differ');
  }
  return passphrase;
}

/** Runs `work` with a signal that Ctrl-C (or SIGTERM) aborts: the core then cleans up and rejects with CANCELLED. */
export async function cancellable<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.on('SIGINT', abort);
  process.on('SIGTERM', abort);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}

const PHASES: Record<BackupProgress['phase'], string> = { export: 'writing', verify: 'verifying', import: 'restoring', swap: 'finishing' };

/** A progress bar on stderr when it is a terminal; nothing otherwise. */
export function progressBar(): ((progress: BackupProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  let shown = '';
  return (p) => {
    const now = Date.now();
    const complete = p.done >= p.total;
    if (!complete && now - last < 100 && shown === p.phase) return;
    last = now;
    shown = p.phase;
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const amount = p.unit === 'bytes' ? `${formatBytes(p.done)} / ${formatBytes(p.total)}` : `${p.done} / ${p.total}`;
    process.stderr.write(`\r${PHASES[p.phase].padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${amount}\x1b[K`);
    if (complete) process.stderr.write('\n');
  };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

function describeManifest(m: BackupManifest, bytes: number): string {
  const c = m.counts;
  return [
    `Backup OK (${formatBytes(bytes)}): format ${m.format} v${m.version}, written by ${m.app.name} ${m.app.version}`,
    `  account   ${m.accountId}`,
    `  created   ${new Date(m.createdAt).toISOString()}`,
    `  messages  ${c.message}`,
    `  contacts  ${c.contact} (${c.conversation} conversations)`,
    `  keys      ${c.key}, settings ${c.setting}`,
  ].join('\n');
}
