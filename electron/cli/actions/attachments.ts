import {
  attachmentsOf,
  type AttachmentSummary,
  findContact,
  hasCode,
  type Profile,
  saveAttachment,
  SottoError,
} from '../../core/index.ts';
import { groupMessagesPage } from '../../core/groups/group-history.ts';
import { messagesPage } from '../../core/history/history.ts';
import { type GlobalOptions, print, withProfile } from '../context.ts';

// What `attachments` and `attachment save` do (the definitions are commands/attachments.ts).

/** Messages looked at when listing a conversation's files (the newest ones). */
const LIST_WINDOW = 10_000;

/** `attachments CONTACT|GROUP`: the conversation's files, oldest first. */
export function list(g: GlobalOptions, name: string): Promise<void> {
  return withProfile(g, async (profile) => {
    const found = await conversationAttachments(profile, name);
    print(g, found, () => found.map(formatAttachment).join('\n') || 'No attachments.');
  });
}

/** `attachment save ID OUT [--force]`: decrypts a stored attachment to OUT. */
export function save(
  g: GlobalOptions,
  id: number,
  out: string,
  options: { force?: boolean },
): Promise<void> {
  return withProfile(g, async (profile) => {
    const { size } = await saveAttachment(profile, id, out, options);
    print(g, { id, size }, () => `Saved ${size} bytes.`);
  });
}

/** The attachments of a contact's or a group's conversation. */
async function conversationAttachments(
  profile: Profile,
  name: string,
): Promise<AttachmentSummary[]> {
  try {
    const contact = findContact(profile.db, name);
    const ids = messagesPage(profile.db, contact.conversationId, LIST_WINDOW).map((m) => m.id);
    return attachmentsOf(profile, { messageIds: ids.reverse() });
  } catch (error) {
    if (!hasCode(error, 'UNKNOWN_CONTACT')) throw error;
  }
  const { groupNamed } = await import('./groups.ts');
  const group = groupNamed(profile, name);
  if (!group) throw new SottoError('UNKNOWN_CONTACT');
  const ids = groupMessagesPage(profile.db, group.ref, LIST_WINDOW).map((m) => m.id);
  return attachmentsOf(profile, { groupMessageIds: ids.reverse() });
}

/** One line: id, state, type, size, name. */
export function formatAttachment(a: AttachmentSummary): string {
  const state = a.state === 'failed' ? `failed: ${a.error ?? 'unknown'}` : a.state;
  return `#${a.id}  ${a.outgoing ? 'sent' : 'received'}  ${a.contentType}  ${a.size} B  ${a.fileName ?? '(no name)'}  [${state}]`;
}
