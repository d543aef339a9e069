import type { Command } from 'commander';
import type { GlobalOptions } from '../context.ts';
import { MAX_DELETE_MESSAGES } from '../../../shared/message-delete.ts';
import { parsePositive } from '../parse.ts';

// Definitions only: each action imports its implementation when it runs (docs/architecture.md#build).
const actions = () => import('../actions/messages.ts');

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `send`, `retry`, `history`, `search`, `delete`. */
export function registerMessageCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('send')
    .description('send a message (queued and sent later if the relay is down)')
    .argument('<contact>', 'display name or account id')
    .argument('[text]', 'the message')
    .option('--stdin', 'read messages from standard input, one per line')
    .option('--file <path>', 'attach a file (repeat for more, up to 10)', collect, [])
    .option('--caption <text>', 'the text sent with the files')
    .action(
      async (
        name: string,
        text: string | undefined,
        options: { stdin?: boolean; file: string[]; caption?: string },
      ) => (await actions()).send(globals(), name, text, options),
    );

  program
    .command('retry')
    .description("queue a contact's or group's failed messages again and send them")
    .argument('<target>', 'display name or account id, or group title or id')
    .action(async (name: string) => (await actions()).retry(globals(), name));

  program
    .command('history')
    .description('show the latest messages with a contact (--json lists their attachments)')
    .argument('<contact>', 'display name or account id')
    .option('--limit <n>', 'how many (default 20)', parsePositive)
    .action(async (name: string, options: { limit?: number }) =>
      (await actions()).history(globals(), name, options),
    );

  program
    .command('search')
    .description('full-text search across all conversations (newest first)')
    .argument('<query>', 'words to find; the last one matches as a prefix')
    .option('--limit <n>', 'how many (default 50)', parsePositive)
    .action(async (query: string, options: { limit?: number }) =>
      (await actions()).search(globals(), query, options),
    );

  program
    .command('delete')
    .description(
      'delete messages on this device only (not for the other side): with their files; ids from history --json',
    )
    .argument('<target>', 'display name or account id, or group title or id')
    .argument('<id...>', `message ids (1 to ${MAX_DELETE_MESSAGES})`)
    .action(async (name: string, ids: string[]) =>
      (await import('../actions/delete.ts')).deleteForMe(globals(), name, ids),
    );
}
