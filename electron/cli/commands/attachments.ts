import type { Command } from 'commander';
import type { GlobalOptions } from '../context.ts';
import { parsePositive } from '../parse.ts';

// Definitions only: each action imports its implementation when it runs (docs/architecture.md#build).
const actions = () => import('../actions/attachments.ts');

/** `attachments`, `attachment save`. */
export function registerAttachmentCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('attachments')
    .description('list the files of a conversation (id, type, name, size, state)')
    .argument('<contact>', 'display name or account id, or a group title')
    .action(async (name: string) => (await actions()).list(globals(), name));

  const attachment = program.command('attachment').description('one attachment');
  attachment
    .command('save')
    .description('decrypt a downloaded attachment to a file')
    .argument('<id>', 'the id `sotto attachments` shows', parsePositive)
    .argument('<out>', 'where to write it')
    .option('--force', 'replace OUT if it exists')
    .action(async (id: number, out: string, options: { force?: boolean }) =>
      (await actions()).save(globals(), id, out, options),
    );
}
