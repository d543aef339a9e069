import { createInterface } from 'node:readline';
import {
  attachmentsOf,
  failedMessageIds,
  findContact,
  getMessage,
  type HistoryMessage,
  hasCode,
  messagesPage,
  type Profile,
  queueAttachmentMessage,
  queueGroupAttachmentMessage,
  queueText,
  retryMessage,
  searchMessages,
  SottoError,
} from '../../core/index.ts';
import type { GroupSearchHit } from '../../core/groups/group-search.ts';
import type { SyncEngine } from '../../core/sync/engine.ts';
import { type GlobalOptions, print, withEngine, withProfile } from '../context.ts';
import { formatAttachment } from './attachments.ts';
import { retryAll } from './retry.ts';
import { retryCancelledUpload } from '../../core/attachments/transfer-control.ts';

// What `send`, `retry`, `history` and `search` do (the definitions are commands/messages.ts).

/**
 * `send CONTACT [TEXT] [--stdin] [--file PATH...] [--caption TEXT]`: queues,
 * then tries to send (a down relay is not a failure). With files, TEXT (or
 * --caption) is their caption, and the message is queued once they are uploaded.
 */
export function send(
  g: GlobalOptions,
  name: string,
  text: string | undefined,
  options: { stdin?: boolean; file?: string[]; caption?: string },
): Promise<void> {
  return withEngine(g, async (profile, engine) => {
    if (options.file && options.file.length > 0)
      return sendFiles(g, profile, engine, name, options.file, options.caption ?? text ?? '');
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

/** `send CONTACT|GROUP --file PATH...`: encrypts and stores the files, then uploads and sends. */
async function sendFiles(
  g: GlobalOptions,
  profile: Profile,
  engine: SyncEngine,
  name: string,
  files: readonly string[],
  caption: string,
): Promise<void> {
  const group = await contactOrGroup(profile, name);
  const outgoing = files.map((path) => ({ path }));
  // Large files start uploading while they are sealed (compose-seal.ts).
  const options = { uploads: () => engine.pool.homeBlobs() };
  const queued = group
    ? await queueGroupAttachmentMessage(
        profile,
        group.state.groupId,
        outgoing,
        caption,
        undefined,
        options,
      )
    : await queueAttachmentMessage(
        profile,
        findContact(profile.db, name).accountId,
        outgoing,
        caption,
        undefined,
        options,
      );
  try {
    await engine.sendOutbox();
  } catch (error) {
    if (!hasCode(error, 'RELAY_UNAVAILABLE') && !hasCode(error, 'NOT_CONFIGURED')) throw error;
  }
  const rows = attachmentsOf(
    profile,
    group ? { groupMessageIds: [queued.id] } : { messageIds: [queued.id] },
  );
  const uploaded = rows.filter((a) => a.state === 'uploaded').length;
  const failed = rows.find((a) => a.state === 'failed');
  if (failed) throw new SottoError('RELAY_REFUSED', failed.error ?? undefined);
  print(g, { id: queued.id, files: rows.length, uploaded }, () =>
    uploaded === rows.length
      ? `Uploaded ${uploaded} file(s) and queued the message.`
      : `Stored ${rows.length} file(s); uploaded ${uploaded} (the rest go out on the next sync).`,
  );
}

/** `retry CONTACT|GROUP`: queues each failed message again, sends them, reports each (retry.ts). */
export function retry(g: GlobalOptions, name: string): Promise<void> {
  return withEngine(g, async (profile, engine) => {
    const group = await contactOrGroup(profile, name);
    const plan = group
      ? (await groups()).groupRetryPlan(profile, group)
      : {
          ids: failedMessageIds(profile, findContact(profile.db, name).conversationId),
          requeue: async (id: number) => {
            if (await retryCancelledUpload(profile, id)) return true;
            retryMessage(profile, id);
            return false;
          },
          status: (id: number) => getMessage(profile.db, id)?.status,
        };
    await retryAll(g, engine, plan);
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
    const files = attachmentsOf(profile, { messageIds: messages.map((m) => m.id) });
    // --json: each message with its files (no keys, no paths); text: a line per file under it.
    const withFiles = messages.map((m) => {
      const attachments = files.filter((a) => a.messageId === m.id);
      return attachments.length > 0 ? { ...m, attachments } : m;
    });
    print(g, withFiles, () =>
      withFiles
        .map((m) =>
          [
            formatMessage(m),
            ...('attachments' in m ? m.attachments.map((a) => `    ${formatAttachment(a)}`) : []),
          ].join('\n'),
        )
        .join('\n'),
    );
  });
}

/** Group actions, loaded only when a name turns out to be a group's. */
const groups = () => import('./groups.ts');

/** A contact's name wins; a name no contact has may be a group's (then its group, else undefined). */
export async function contactOrGroup(profile: Profile, name: string) {
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
