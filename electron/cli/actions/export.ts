import {
  exportConversation,
  findContact,
  hasCode,
  type Profile,
  type ReadableFormat,
  SottoError,
} from '../../core/index.ts';
import { type GlobalOptions, print, withProfile } from '../context.ts';
import { cancellable, progressBar, readBackupPassphrase } from './backup.ts';

// What `export` does (the definition is commands/export.ts).

/** The `export` command's options, as commander parses them. */
export interface ExportOptions {
  readonly all?: boolean;
  readonly format: ReadableFormat;
  readonly from?: string;
  readonly to?: string;
  readonly encrypt?: boolean;
  readonly scryptWorkFactor?: number;
}

/** `export CONTACT FILE` or `export --all FILE`: a readable copy, optionally age-encrypted. */
export function exportReadable(
  g: GlobalOptions,
  args: string[],
  options: ExportOptions,
): Promise<void> {
  return withProfile(g, async (profile) => {
    if (args.length !== (options.all ? 1 : 2))
      throw new SottoError('INVALID_INPUT', 'expected CONTACT FILE, or --all FILE');
    const file = args.at(-1)!;
    // A contact, or else a group of that name (`send` and `history` resolve names the same way).
    const target = options.all ? undefined : await contactOrGroupId(profile, args[0]!);
    const conversation = target?.accountId ?? 'all';
    const encryptWith = options.encrypt
      ? await readBackupPassphrase('Passphrase for the exported file')
      : undefined;
    const report = await cancellable((signal) =>
      exportConversation(profile, file, {
        conversation,
        ...(target?.groupId !== undefined ? { group: target.groupId } : {}),
        format: options.format,
        ...(options.from ? { from: parseDate(options.from, false) } : {}),
        ...(options.to ? { to: parseDate(options.to, true) } : {}),
        ...(encryptWith !== undefined ? { encryptWith } : {}),
        ...(options.scryptWorkFactor ? { scryptLogN: options.scryptWorkFactor } : {}),
        signal,
        onProgress: progressBar(),
      }),
    );
    print(
      g,
      report,
      () =>
        `Exported ${report.messages} messages from ${report.conversations} conversation(s) to ${file}.`,
    );
  });
}

async function contactOrGroupId(
  profile: Profile,
  name: string,
): Promise<{ accountId?: string; groupId?: string }> {
  try {
    return { accountId: findContact(profile.db, name).accountId };
  } catch (error) {
    if (!hasCode(error, 'UNKNOWN_CONTACT')) throw error;
  }
  const group = (await import('./groups.ts')).groupNamed(profile, name);
  if (!group) throw new SottoError('UNKNOWN_CONTACT');
  return { groupId: group.state.groupId };
}

/** A date (YYYY-MM-DD, UTC: the start of the day, or its end for `to`) or an ISO 8601 time, in ms. */
export function parseDate(text: string, endOfDay: boolean): number {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const ms = Date.parse(day ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms)) throw new SottoError('INVALID_INPUT', 'bad date');
  return day && endOfDay ? ms + 86_400_000 - 1 : ms;
}
