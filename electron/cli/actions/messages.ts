import { createInterface } from 'node:readline';
import {
  failedMessageIds,
  findContact,
  getMessage,
  type HistoryMessage,
  hasCode,
  messagesPage,
  type Profile,
  queueText,
  retryMessage,
  searchMessages,
  SottoError,
} from '../../core/index.ts';
import type { GroupSearchHit } from '../../core/groups/group-search.ts';
import { type GlobalOptions, print, withEngine, withProfile } from '../context.ts';

// What `send`, `retry`, `history` and `search` do (the definitions are commands/messages.ts).

/** `send CONTACT [TEXT] [--stdin]`: queues, then tries to send (a down relay is not a failure). */
export function send(
  g: GlobalOptions,
  name: string,
  text: string | undefined,
  options: { stdin?: boolean },
): Promise<void> {
  return withEngine(g, async (profile, engine) => {
    const bodies = options.stdin ? await readLines() : text !== undefined ? [text] : [];
    const group = await contactOrGroup(profile, name);
    if (group && bodies.length > 0)
      return (await groups()).sendToGroup(g, profile, engine, group, bodies);
    const target = findContact(profile.db, name);
    if (bodies.length === 0) throw new SottoError('INVALID_INPUT', 'nothing to send');
    const queued = bodies.map((body) => queueText(profile, target.accountId, body).id);
    try {
      await engine.sendOutbox();
    } catch (error) {
      if (!hasCode(error, 'RELAY_UNAVAILABLE') && !hasCode(error, 'NOT_CONFIGURED')) throw error;
    }
    // Count these messages only (the pass may also have sent older backlog and receipts).
    const sent = queued.filter((id) =>
      ['sent', 'delivered'].includes(getMessage(profile.db, id)?.status ?? ''),
    ).length;
    print(g, { queued: bodies.length, sent }, () =>
      sent >= bodies.length
        ? `Sent ${bodies.length}.`
        : `Queued ${bodies.length}; sent ${sent} (the rest go out on the next sync).`,
    );
  });
}

/** `retry CONTACT`: queues the contact's failed messages again and sends them. */
export function retry(g: GlobalOptions, name: string): Promise<void> {
  return withEngine(g, async (profile, engine) => {
    const target = findContact(profile.db, name);
    const failed = failedMessageIds(profile, target.conversationId);
    for (const id of failed) retryMessage(profile, id);
    const { sent } = await engine.sendOutbox();
    print(g, { retried: failed.length, sent }, () => `Retried ${failed.length}; sent ${sent}.`);
  });
}

/** `history CONTACT [--limit N]`: the latest messages, oldest first. */
export function history(
  g: GlobalOptions,
  name: string,
  options: { limit?: number },
): Promise<void> {
  return withProfile(g, async (profile) => {
    const group = await contactOrGroup(profile, name);
    if (group) return (await groups()).groupHistory(g, profile, group, options.limit ?? 20);
    const target = findContact(profile.db, name);
    const messages = messagesPage(profile.db, target.conversationId, options.limit ?? 20).reverse();
    print(g, messages, () => messages.map(formatMessage).join('\n'));
  });
}

/** Group actions, loaded only when a name turns out to be a group's. */
const groups = () => import('./groups.ts');

/** A contact's name wins; a name no contact has may be a group's (then its group, else undefined). */
async function contactOrGroup(profile: Profile, name: string) {
  try {
    findContact(profile.db, name);
    return undefined;
  } catch (error) {
    if (!hasCode(error, 'UNKNOWN_CONTACT')) throw error;
  }
  return (await groups()).groupNamed(profile, name);
}

/** `search QUERY [--limit N]`: full-text search, newest first. */
export function search(
  g: GlobalOptions,
  query: string,
  options: { limit?: number },
): Promise<void> {
  return withProfile(g, async (profile) => {
    const limit = options.limit ?? 50;
    // Contacts' and groups' hits together, newest first (a group hit names its group).
    const hits: (HistoryMessage | GroupSearchHit)[] = [
      ...searchMessages(profile.db, query, limit),
      ...(await groups()).searchGroups(profile, query, limit),
    ]
      .sort((a, b) => b.sentAt - a.sentAt || b.receivedAt - a.receivedAt)
      .slice(0, limit);
    print(g, hits, () =>
      hits
        .map((m) => ('groupTitle' in m ? `[${m.groupTitle}] ` : '') + formatMessage(m))
        .join('\n'),
    );
  });
}

function formatMessage(m: HistoryMessage | GroupSearchHit): string {
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
