import { type Command, Option } from 'commander';
import { exportConversation, findContact, type ReadableFormat, SottoError } from '../../core/index.ts';
import { type GlobalOptions, print, withProfile } from '../context.ts';
import { cancellable, progressBar, readBackupPassphrase } from './backup.ts';
import { parsePositive } from './profile.ts';

/** `export`: a readable copy of one conversation or all (HTML, JSON, Markdown), optionally age-encrypted. */
export function registerExportCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('export')
    .description('write a readable copy of a conversation (or --all) as HTML, JSON or Markdown')
    .usage('CONTACT|--all --format html|json|md [--from DATE] [--to DATE] [--encrypt] FILE')
    .argument('<args...>', 'CONTACT FILE, or FILE with --all')
    .option('--all', 'every conversation')
    .addOption(new Option('--format <format>', 'output format').choices(['html', 'json', 'md']).makeOptionMandatory())
    .option('--from <date>', 'first day (YYYY-MM-DD, UTC) or ISO time')
    .option('--to <date>', 'last day (YYYY-MM-DD, UTC, inclusive) or ISO time')
    .option('--encrypt', 'encrypt the file with age (passphrase from SOTTO_BACKUP_PASSPHRASE or a prompt)')
    .addOption(new Option('--scrypt-work-factor <logN>').argParser(parsePositive).hideHelp())
    .action(
      (
        args: string[],
        options: { all?: boolean; format: ReadableFormat; from?: string; to?: string; encrypt?: boolean; scryptWorkFactor?: number },
      ) =>
        withProfile(globals(), async (profile) => {
          if (args.length !== (options.all ? 1 : 2)) throw new SottoError('INVALID_INPUT', 'expected CONTACT FILE, or --all FILE');
          const file = args.at(-1)!;
          const conversation = options.all ? 'all' : findContact(profile.db, args[0]!).accountId;
          const encryptWith = options.encrypt ? await readBackupPassphrase('Passphrase for the exported file') : undefined;
          const report = await cancellable((signal) =>
            exportConversation(profile, file, {
              conversation,
              format: options.format,
              ...(options.from ? { from: parseDate(options.from, false) } : {}),
              ...(options.to ? { to: parseDate(options.to, true) } : {}),
              ...(encryptWith !== undefined ? { encryptWith } : {}),
              ...(options.scryptWorkFactor ? { scryptLogN: options.scryptWorkFactor } : {}),
              signal,
              onProgress: progressBar(),
            }),
          );
          print(globals(), report, () => `Exported ${report.messages} messages from ${report.conversations} conversation(s) to ${file}.`);
        }),
    );
}

/** A date (YYYY-MM-DD, UTC: the start of the day, or its end for `to`) or an ISO 8601 time, in ms. */
export function parseDate(text: string, endOfDay: boolean): number {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const ms = Date.parse(day ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms)) throw new SottoError('INVALID_INPUT', 'bad date');
  return day && endOfDay ? ms + 86_400_000 - 1 : ms;
}
