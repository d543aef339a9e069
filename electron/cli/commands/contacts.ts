import type { Command } from 'commander';
import {
  addContactFromInvite,
  blockContact,
  findContact,
  listContacts,
  markVerified,
  safetyNumber,
  unblockContact,
} from '../../core/index.ts';
import { type GlobalOptions, print, withProfile } from '../context.ts';

/** `contact add`, `contact block`, `contact unblock`, `contacts`, `safety-number`, `verify`. */
export function registerContactCommands(program: Command, globals: () => GlobalOptions): void {
  const contact = program.command('contact').description('manage contacts');
  contact
    .command('add')
    .description('add a contact from their invite')
    .argument('<invite>', 'the invite text (sotto://invite/2#...)')
    .option('--name <name>', 'your name for them (default: the name in the invite)')
    .action((text: string, options: { name?: string }) =>
      withProfile(globals(), (profile) => {
        const added = addContactFromInvite(profile, text, options.name);
        print(globals(), added, () => `Added ${added.displayName ?? added.accountId}.`);
        return Promise.resolve();
      }),
    );
  contact
    .command('block')
    .description(
      'block a contact: rotates your delivery token and sends the new one to everyone else',
    )
    .argument('<contact>', 'display name or account id')
    .action((name: string) =>
      withProfile(globals(), (profile) => {
        const blocked = blockContact(profile, findContact(profile.db, name).accountId);
        print(
          globals(),
          blocked,
          () =>
            `Blocked ${blocked.displayName ?? blocked.accountId}. The new token reaches the relay and your other contacts on the next sync.`,
        );
        return Promise.resolve();
      }),
    );
  contact
    .command('unblock')
    .description('unblock a contact and send them your current delivery token')
    .argument('<contact>', 'display name or account id')
    .action((name: string) =>
      withProfile(globals(), (profile) => {
        const unblocked = unblockContact(profile, findContact(profile.db, name).accountId);
        print(
          globals(),
          unblocked,
          () => `Unblocked ${unblocked.displayName ?? unblocked.accountId}.`,
        );
        return Promise.resolve();
      }),
    );

  program
    .command('contacts')
    .description('list contacts')
    .action(() =>
      withProfile(globals(), (profile) => {
        const contacts = listContacts(profile.db);
        print(globals(), contacts, () =>
          contacts
            .map(
              (c) =>
                `${(c.displayName ?? '(unknown)').padEnd(24)} ${c.accountId} ${c.trust}${c.verified ? ' verified' : ''}${c.blocked ? ' blocked' : ''}`,
            )
            .join('\n'),
        );
        return Promise.resolve();
      }),
    );

  program
    .command('safety-number')
    .description("show the safety number to compare with a contact's")
    .argument('<contact>', 'display name or account id')
    .action((name: string) =>
      withProfile(globals(), (profile) => {
        const target = findContact(profile.db, name);
        const number = safetyNumber(profile, target.accountId);
        const groups = number.digits.match(/\d{5}/g) ?? [];
        print(
          globals(),
          {
            contact: target.accountId,
            digits: number.digits,
            scannable: Buffer.from(number.scannable).toString('base64'),
          },
          () => [groups.slice(0, 6).join(' '), groups.slice(6).join(' ')].join('\n'),
        );
        return Promise.resolve();
      }),
    );

  program
    .command('verify')
    .description(
      'mark a contact verified after comparing safety numbers (also accepts a changed one)',
    )
    .argument('<contact>', 'display name or account id')
    .action((name: string) =>
      withProfile(globals(), (profile) => {
        const target = findContact(profile.db, name);
        markVerified(profile, target.accountId);
        print(
          globals(),
          { contact: target.accountId, verified: true },
          () => `Verified ${target.displayName ?? target.accountId}.`,
        );
        return Promise.resolve();
      }),
    );
}
