import type { Command } from 'commander';
import type { GlobalOptions } from '../context.ts';

// Definitions only: each action imports its implementation when it runs (docs/architecture.md#build).
const actions = () => import('../actions/groups.ts');

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `group create|add|remove|leave|rename|admin|accept|info`, `groups`. */
export function registerGroupCommands(program: Command, globals: () => GlobalOptions): void {
  const group = program.command('group').description('group conversations');
  group
    .command('create')
    .description('create a group with contacts as members (you are its admin)')
    .argument('<title>', 'the group title')
    .option('--member <contact>', 'a contact to add (repeat for more)', collect)
    .action(async (title: string, options: { member?: string[] }) =>
      (await actions()).create(globals(), title, options.member ?? []),
    );
  group
    .command('add')
    .description('add a contact to a group (admins)')
    .argument('<group>', 'group title or id')
    .argument('<contact>', 'display name or account id')
    .action(async (g: string, c: string) => (await actions()).add(globals(), g, c));
  group
    .command('remove')
    .description('remove a member (admins); everyone rotates their sender keys')
    .argument('<group>', 'group title or id')
    .argument('<member>', 'display name or account id')
    .action(async (g: string, c: string) => (await actions()).remove(globals(), g, c));
  group
    .command('admin')
    .description('make a member an admin (admins)')
    .argument('<group>', 'group title or id')
    .argument('<member>', 'display name or account id')
    .action(async (g: string, c: string) => (await actions()).admin(globals(), g, c));
  group
    .command('leave')
    .description('leave a group')
    .argument('<group>', 'group title or id')
    .action(async (g: string) => (await actions()).leave(globals(), g));
  group
    .command('rename')
    .description('rename a group (admins)')
    .argument('<group>', 'group title or id')
    .argument('<title>', 'the new title')
    .action(async (g: string, t: string) => (await actions()).rename(globals(), g, t));
  group
    .command('accept')
    .description('accept a member whose safety number changed as they are (sending resumes)')
    .argument('<group>', 'group title or id')
    .argument('<member>', 'display name or account id')
    .action(async (g: string, c: string) => (await actions()).accept(globals(), g, c));
  group
    .command('info')
    .description("a group's title, members, admins and revision")
    .argument('<group>', 'group title or id')
    .action(async (g: string) => (await actions()).info(globals(), g));
  program
    .command('groups')
    .description('list your groups')
    .action(async () => (await actions()).list(globals()));
}
