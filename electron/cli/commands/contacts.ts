import type { Command } from 'commander';
import type { GlobalOptions } from '../context.ts';

// Definitions only: each action imports its implementation when it runs (docs/architecture.md#build).
const actions = () => import('../actions/contacts.ts');

/** `contact add`, `contact block`, `contact unblock`, `contacts`, `safety-number`, `verify`. */
export function registerContactCommands(program: Command, globals: () => GlobalOptions): void {
  const contact = program.command('contact').description('manage contacts');
  contact
    .command('add')
    .description('add a contact from their invite')
    .argument('<invite>', 'the invite text (sotto://invite/2#...)')
    .option('--name <name>', 'your name for them (default: the name in the invite)')
    .action(async (text: string, options: { name?: string }) =>
      (await actions()).contactAdd(globals(), text, options),
    );
  contact
    .command('block')
    .description(
      'block a contact: rotates your delivery token and sends the new one to everyone else',
    )
    .argument('<contact>', 'display name or account id')
    .action(async (name: string) => (await actions()).contactBlock(globals(), name));
  contact
    .command('unblock')
    .description('unblock a contact and send them your current delivery token')
    .argument('<contact>', 'display name or account id')
    .action(async (name: string) => (await actions()).contactUnblock(globals(), name));

  program
    .command('contacts')
    .description('list contacts')
    .action(async () => (await actions()).contactsList(globals()));

  program
    .command('safety-number')
    .description("show the safety number to compare with a contact's")
    .argument('<contact>', 'display name or account id')
    .action(async (name: string) => (await actions()).safetyNumberShow(globals(), name));

  program
    .command('verify')
    .description(
      'mark a contact verified after comparing safety numbers (also accepts a changed one)',
    )
    .argument('<contact>', 'display name or account id')
    .action(async (name: string) => (await actions()).contactVerify(globals(), name));
}
