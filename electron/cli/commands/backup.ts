import type { Command } from 'commander';
import type { GlobalOptions } from '../context.ts';
import { parsePositive, workFactorOption } from '../parse.ts';

// Definitions only: each action imports its implementation when it runs, so
// `sotto --help` loads no native module (docs/architecture.md#build).
const actions = () => import('../actions/backup.ts');

/** `backup export`, `backup verify`, `backup import`. */
export function registerBackupCommands(program: Command, globals: () => GlobalOptions): void {
  const backup = program
    .command('backup')
    .description('encrypted backups: one age file (docs/backup-format.md)')
    .addHelpText(
      'after',
      '\nThe backup passphrase is read from SOTTO_BACKUP_PASSPHRASE, or asked for on the terminal.',
    );

  backup
    .command('export')
    .description('write an encrypted backup of the whole profile')
    .argument('<file>', 'the backup file to write (replaced if it exists)')
    .option(
      '--recovery-key',
      'generate a recovery key instead of asking for a passphrase (printed once)',
    )
    .addOption(workFactorOption())
    .action(async (file: string, options: { recoveryKey?: boolean; scryptWorkFactor?: number }) =>
      (await actions()).backupExport(globals(), file, options),
    );

  backup
    .command('verify')
    .description(
      'read and authenticate a whole backup file; print its manifest (no profile needed)',
    )
    .argument('<file>', 'the backup file')
    .option('--deep', 'also validate every record, as an import does')
    .action(async (file: string, options: { deep?: boolean }) =>
      (await actions()).backupVerify(globals(), file, options),
    );

  backup
    .command('import')
    .description(
      'restore a backup: into the --profile directory if it has no profile, else merged into that profile',
    )
    .argument('<file>', 'the backup file')
    .option(
      '--kdf-memory <MiB>',
      "Argon2id memory for a new profile's passphrase (default 256)",
      parsePositive,
    )
    .option('--kdf-iterations <n>', 'Argon2id passes for a new profile (default 3)', parsePositive)
    .action(async (file: string, options: { kdfMemory?: number; kdfIterations?: number }) =>
      (await actions()).backupImport(globals(), file, options),
    );
}
