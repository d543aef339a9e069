import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  failedMessageIds,
  findContact,
  getMessage,
  type HistoryMessage,
  hasCode,
  messagesPage,
  queueText,
  retryMessage,
  searchMessages,
  SottoError,
} from '../../core/index.ts';
import { type GlobalOptions, print, withEngine, withProfile } from '../context.ts';
import { parsePositive } from './profile.ts';

/** `send`, `history`, `search`. */
export function registerMessageCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('send')
    .description('send a message (queued and sent later if the relay is down)')
    .argument('<contact>', 'display name or account id')
    .argument('[text]', 'the message')
    .option('--stdin', 'read messages from standard input, one per line')
    .action((name: string, text: string | undefined, options: { stdin?: boolean }) =>
      withEngine(globals(), async (profile, engine) => {
        const target = findContact(profile.db, name);
        const bodies = options.stdin ? await readLines() : text !== undefined ? [text] : [];
        if (bodies.length === 0) throw new SottoError('INVALID_INPUT', 'nothing to send');
        const queued = bodies.map((body) => queueText(profile, target.accountId, body).id);
        try {
          await engine.sendOutbox();
        } catch (error) {
          if (!hasCode(error, 'RELAY_UNAVAILABLE') && !hasCode(error, 'NOT_CONFIGURED'))
            throw error;
        }
        // Count these messages only (the pass may also have sent older backlog and receipts).
        const sent = queued.filter((id) =>
          ['sent', 'delivered'].includes(getMessage(profile.db, id)?.status ?? ''),
        ).length;
        print(globals(), { queued: bodies.length, sent }, () =>
          sent >= bodies.length
            ? `Sent ${bodies.length}.`
            : `Queued ${bodies.length}; sent ${sent} (the rest go out on the next sync).`,
        );
      }),
    );

  program
    .command('retry')
    .description("queue a contact's failed messages again and send them")
    .argument('<contact>', 'display name or account id')
    .action((name: string) =>
      withEngine(globals(), async (profile, engine) => {
        const target = findContact(profile.db, name);
        const failed = failedMessageIds(profile, target.conversationId);
        for (const id of failed) retryMessage(profile, id);
        const { sent } = await engine.sendOutbox();
        print(
          globals(),
          { retried: failed.length, sent },
          () => `Retried ${failed.length}; sent ${sent}.`,
        );
      }),
    );

  program
    .command('history')
    .description('show the latest messages with a contact')
    .argument('<contact>', 'display name or account id')
    .option('--limit <n>', 'how many (default 20)', parsePositive)
    .action((name: string, options: { limit?: number }) =>
      withProfile(globals(), (profile) => {
        const target = findContact(profile.db, name);
        const messages = messagesPage(
          profile.db,
          target.conversationId,
          options.limit ?? 20,
        ).reverse();
        print(globals(), messages, () => messages.map(formatMessage).join('\n'));
        return Promise.resolve();
      }),
    );

  program
    .command('search')
    .description('full-text search across all conversations (newest first)')
    .argument('<query>', 'words to find; the last one matches as a prefix')
    .option('--limit <n>', 'how many (default 50)', parsePositive)
    .action((query: string, options: { limit?: number }) =>
      withProfile(globals(), (profile) => {
        const hits = searchMessages(profile.db, query, options.limit ?? 50);
        print(globals(), hits, () => hits.map(formatMessage).join('\n'));
        return Promise.resolve();
      }),
    );
}

function formatMessage(m: HistoryMessage): string {
  const when = new Date(m.sentAt).toISOString().replace('T', ' ').slice(0, 19);
  const status = m.outgoing ? ` [${m.status}]` : '';
  return `${when}  ${m.senderName ?? m.senderAccount}: ${m.body}${status}`;
}

async function readLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (line.length > 0) lines.push(line);
  }
  return lines;
}
