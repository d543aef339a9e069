// `sotto`: the headless client (scripting, servers, tests) on the same core as the app.
// Built to out/cli (build/cli.mjs). This module and commands/ stay light: each
// command's action imports its implementation when it runs, so `--help` and
// argument errors load no native module, zxcvbn or zod (docs/architecture.md#build).
import { Command, CommanderError } from 'commander';
import { ERROR_MESSAGES, isErrorCode } from '../../shared/errors.ts';
import { SottoError } from '../core/errors.ts';
import { registerAttachmentCommands } from './commands/attachments.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerContactCommands } from './commands/contacts.ts';
import { registerExportCommand } from './commands/export.ts';
import { registerGroupCommands } from './commands/groups.ts';
import { registerIdentityCommands } from './commands/identity.ts';
import { registerMessageCommands } from './commands/messages.ts';
import { registerMuteCommands } from './commands/mute.ts';
import { registerProfileCommands } from './commands/profile.ts';
import { registerSyncCommands } from './commands/sync.ts';
import type { GlobalOptions } from './context.ts';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.ts';

// A closed pipe (`sotto history Bob | head`) is not a failure of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.OK);
  throw error;
});

const program = new Command('sotto')
  .description('Sotto: end-to-end encrypted messenger, headless client')
  .option(
    '--profile <dir>',
    'profile directory (or SOTTO_PROFILE); all commands but `backup verify` need it',
    process.env['SOTTO_PROFILE'],
  )
  .option('--json', 'print data as JSON')
  .addHelpText(
    'after',
    `\nThe passphrase is read from SOTTO_PASSPHRASE, or asked for on the terminal.\n${EXIT_CODES_HELP}`,
  )
  .showHelpAfterError()
  .exitOverride();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
registerProfileCommands(program, globals);
registerContactCommands(program, globals);
registerMessageCommands(program, globals);
registerAttachmentCommands(program, globals);
registerGroupCommands(program, globals);
registerMuteCommands(program, globals);
registerSyncCommands(program, globals);
registerBackupCommands(program, globals);
registerExportCommand(program, globals);
registerIdentityCommands(program, globals);

try {
  await program.parseAsync(process.argv);
  process.exitCode = EXIT.OK;
} catch (error) {
  process.exitCode = report(error);
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (error instanceof SottoError) {
    // Details are fixed developer text (never user content): shown where they tell the user what to fix.
    const detail =
      (error.code === 'RELAY_REFUSED' || error.code === 'INVALID_INPUT') && error.detail
        ? ` (${error.detail})`
        : '';
    process.stderr.write(`sotto: ${error.message}${detail}\n`);
    return exitCodeFor(error.code);
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (isErrorCode(code)) {
    process.stderr.write(`sotto: ${code}: ${ERROR_MESSAGES[code]}\n`);
    return exitCodeFor(code);
  }
  if ((error as { name?: string } | null)?.name === 'ExitPromptError') return EXIT.USAGE; // Ctrl-C at a prompt
  process.stderr.write(
    `sotto: unexpected failure (${(error as { name?: string } | null)?.name ?? 'unknown'})\n`,
  );
  return EXIT.FAILURE;
}
