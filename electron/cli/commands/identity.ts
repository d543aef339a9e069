import type { Command } from 'commander';
import { SottoError } from '../../core/index.ts';
import { ownDestination, resetIdentity } from '../../core/crypto/identity-reset.ts';
import { type GlobalOptions, print, withProfile } from '../context.ts';

const WARNING = [
  'Identity reset replaces your identity key, and with it your account id.',
  'Use it only if you think your key was stolen. Every contact sees a changed',
  'safety number and must accept it before writing to you again; messages still',
  'waiting for the old account on your relay can no longer be read.',
  'Run again with --yes to go ahead.',
].join('\n');

/** `identity reset`. */
export function registerIdentityCommands(program: Command, globals: () => GlobalOptions): void {
  const identity = program.command('identity').description('your identity key');
  identity
    .command('reset')
    .description('new identity key and account id; contacts are told by a notice signed with the old key')
    .option('--yes', 'confirm: the old key is deleted')
    .action((options: { yes?: boolean }) => {
      if (!options.yes) {
        process.stderr.write(`${WARNING}\n`);
        throw new SottoError('INVALID_INPUT', 'identity reset needs --yes');
      }
      return withProfile(globals(), async (profile) => {
        const before = profile.account.accountId;
        const account = await resetIdentity(profile, ownDestination(profile));
        const contacts = Number(profile.db.prepare('SELECT count(*) FROM contacts', { pluck: true }).get());
        print(globals(), { previousAccountId: before, accountId: account.accountId, notified: contacts }, () =>
          [
            `New account id: ${account.accountId}`,
            `${contacts} contact(s) will get the signed move notice on the next sync; share your new invite with anyone else.`,
          ].join('\n'),
        );
      });
    });
}
