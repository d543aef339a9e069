import { type Command, Option } from 'commander';
import type { GlobalOptions } from '../context.ts';
import { workFactorOption } from '../parse.ts';
import type { ExportOptions } from '../actions/export.ts';

// Definitions only: the action imports its implementation when it runs (docs/architecture.md#build).
const actions = () => import('../actions/export.ts');

/** `export`: a readable copy of one conversation or all (HTML, JSON, Markdown), optionally age-encrypted. */
export function registerExportCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('export')
    .description('write a readable copy of a conversation (or --all) as HTML, JSON or Markdown')
    .usage('CONTACT|--all --format html|json|md [--from DATE] [--to DATE] [--encrypt] FILE')
    .argument('<args...>', 'CONTACT FILE, or FILE with --all')
    .option('--all', 'every conversation')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['html', 'json', 'md'])
        .makeOptionMandatory(),
    )
    .option('--from <date>', 'first day (YYYY-MM-DD, UTC) or ISO time')
    .option('--to <date>', 'last day (YYYY-MM-DD, UTC, inclusive) or ISO time')
    .option(
      '--encrypt',
      'encrypt the file with age (passphrase from SOTTO_BACKUP_PASSPHRASE or a prompt)',
    )
    .addOption(workFactorOption())
    .action(async (args: string[], options: ExportOptions) =>
      (await actions()).exportReadable(globals(), args, options),
    );
}
