import { existsSync } from 'node:fs';
import {
  type BackupManifest,
  type BackupProgress,
  checkPassphraseStrength,
  kdfCostFromOptions,
  exportBackup,
  generateRecoveryKey,
  importBackup,
  profilePaths,
  SottoError,
  verifyBackup,
} from '../../core/index.ts';
import {
  askHidden,
  type GlobalOptions,
  print,
  profileDir,
  readPassphrase,
  withProfile,
} from '../context.ts';
// Bundled into the built CLI (out/cli), which has no package.json beside it.
import packageJson from '../../../package.json' with { type: 'json' };

// What `backup export|verify|import` do (the definitions are commands/backup.ts).

const appVersion = packageJson.version;

/** `backup export FILE`: an encrypted backup of the whole profile. */
export function backupExport(
  g: GlobalOptions,
  file: string,
  options: { recoveryKey?: boolean; scryptWorkFactor?: number },
): Promise<void> {
  return withProfile(g, async (profile) => {
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
    print(
      g,
      {
        file,
        bytes: report.bytes,
        manifest: report.manifest,
        ...(recoveryKey ? { recoveryKey } : {}),
      },
      () =>
        [
          `Backup written: ${file} (${formatBytes(report.bytes)}, ${plural(report.manifest.counts.message, 'message')}).`,
          ...(recoveryKey
            ? [
                '',
                'Recovery key (write it down; it is shown only this once):',
                '',
                `  ${recoveryKey}`,
                '',
              ]
            : []),
        ].join('\n'),
    );
  });
}

/** `backup verify FILE`: reads and authenticates the whole file, prints its manifest. */
export async function backupVerify(
  g: GlobalOptions,
  file: string,
  options: { deep?: boolean },
): Promise<void> {
  const passphrase = await readBackupPassphrase();
  const report = await cancellable((signal) =>
    verifyBackup(file, passphrase, { deep: options.deep, signal, onProgress: progressBar() }),
  );
  print(g, { ok: true, bytes: report.bytes, manifest: report.manifest }, () =>
    describeManifest(report.manifest, report.bytes),
  );
}

/** `backup import FILE`: into a new profile, or merged into the existing one. */
export async function backupImport(
  g: GlobalOptions,
  file: string,
  options: { kdfMemory?: number; kdfIterations?: number },
): Promise<void> {
  const exists = existsSync(profilePaths(profileDir(g)).keyFile);
  // The CLI floor (64 MiB x 3) before any passphrase is asked for, as `init` does; a merge keeps the profile's own cost.
  const kdfCost = exists
    ? undefined
    : kdfCostFromOptions({ memoryMiB: options.kdfMemory, iterations: options.kdfIterations });
  const backupPassphrase = await readBackupPassphrase();
  let profilePassphrase: string;
  if (exists) profilePassphrase = await readPassphrase();
  else {
    profilePassphrase = await readPassphrase('New profile passphrase');
    if (
      process.env['SOTTO_PASSPHRASE'] === undefined &&
      (await readPassphrase('Repeat passphrase')) !== profilePassphrase
    ) {
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
  const files =
    report.attachmentsRestored > 0
      ? ` and ${plural(report.attachmentsRestored, 'attachment')}`
      : '';
  print(g, { ...counts, accountId: manifest.accountId }, () =>
    [
      report.created
        ? `Restored ${plural(report.messagesInserted, 'message')}${files} into a new profile (${manifest.accountId}).`
        : `Merged: ${plural(report.messagesInserted, 'new message')}${files}, ${report.messagesSkipped} already present.`,
      ...(report.created
        ? ['Conversations resume on the next sync (sessions are re-established automatically).']
        : []),
      // Records whose message is not there under their sender (or already has them): said, never silent.
      ...(report.attachmentsSkipped > 0
        ? [
            `${plural(report.attachmentsSkipped, 'attachment')} not restored (no such message, or already present).`,
          ]
        : []),
    ].join('\n'),
  );
}

/** The backup passphrase: SOTTO_BACKUP_PASSPHRASE for scripts, else a hidden prompt. */
export async function readBackupPassphrase(message = 'Backup passphrase'): Promise<string> {
  const fromEnv = process.env['SOTTO_BACKUP_PASSPHRASE'];
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY)
    throw new SottoError('PASSPHRASE_REQUIRED', 'no terminal and no SOTTO_BACKUP_PASSPHRASE');
  return askHidden(message);
}

/** A new backup passphrase: asked twice on a terminal, and rated before anything is written. */
async function newBackupPassphrase(): Promise<string> {
  const passphrase = await readBackupPassphrase('New backup passphrase');
  const strength = await checkPassphraseStrength(passphrase);
  if (!strength.acceptable) {
    const advice = [strength.warning, ...strength.suggestions].filter(Boolean).join(' ');
    process.stderr.write(
      `sotto: that passphrase is too easy to guess (score ${strength.score}/4, need 3). ${advice}\n`,
    );
    throw new SottoError('WEAK_PASSPHRASE');
  }
  if (
    process.env['SOTTO_BACKUP_PASSPHRASE'] === undefined &&
    (await readBackupPassphrase('Repeat backup passphrase')) !== passphrase
  ) {
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

const PHASES: Record<BackupProgress['phase'], string> = {
  export: 'writing',
  verify: 'verifying',
  import: 'restoring',
  swap: 'finishing',
};

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
    const amount =
      p.unit === 'bytes'
        ? `${formatBytes(p.done)} / ${formatBytes(p.total)}`
        : `${p.done} / ${p.total}`;
    process.stderr.write(
      `\r${PHASES[p.phase].padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${amount}\x1b[K`,
    );
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
