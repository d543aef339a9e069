import type { AccountId } from '../../../shared/protocol/account-id.ts';
import type {
  Contact,
  Conversation,
  ConversationDetail,
  EventPayload,
} from '../../../shared/ipc/contract.ts';
import type { MuteDuration } from '../../../shared/mute.ts';
import { blockContact, unblockContact } from '../contacts/block.ts';
import {
  contactByConversation,
  listContacts,
  type Contact as CoreContact,
} from '../contacts/contacts.ts';
import { addContactFromInvite } from '../contacts/invite.ts';
import { SottoError } from '../errors.ts';
import { conversationExtras } from '../history/conversation-state.ts';
import { getMessage, type HistoryMessage, listConversations } from '../history/history.ts';
import { retryCancelledUpload } from '../attachments/transfer-control.ts';
import { clearMute, setMute } from '../history/mute.ts';
import { queueText, retryMessage } from '../messaging/outbox.ts';
import type { Profile } from '../profile/profile.ts';
import type { ServiceParts } from './types.ts';

// Contacts, conversations and sending, as the contract's handlers run them.

/** Adds a contact from an invite link's text. */
export function addContact(parts: ServiceParts, text: string): Contact {
  const added = addContactFromInvite(parts.open(), text);
  parts.emit('conversations:changed', {});
  return toContact(added);
}

/** Block: the token rotation and the re-shared token go out with the next sync pass (register first, then send). */
export function setBlocked(parts: ServiceParts, conversationId: number, blocked: boolean): Contact {
  const profile = parts.open();
  const { accountId } = contactOf(parts, conversationId);
  const contact = blocked ? blockContact(profile, accountId) : unblockContact(profile, accountId);
  parts.emit('conversations:changed', {});
  parts.sendNow();
  return toContact(contact);
}

/** Every contact, by display name (or account id when there is none), case-insensitively. */
export function contacts(parts: ServiceParts): Contact[] {
  const key = (c: CoreContact) => (c.displayName ?? c.accountId).toLowerCase();
  return listContacts(parts.open().db)
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    .map(toContact);
}

/** The contact of a conversation; UNKNOWN_CONTACT if there is none. */
export function contactOf(parts: ServiceParts, conversationId: number): CoreContact {
  return contactByConversation(parts.open().db, conversationId);
}

/** Verify or accept: after a contact's move the conversation belongs to its new account id, so it is re-read by conversation. */
export function decideTrust(
  parts: ServiceParts,
  conversationId: number,
  decide: (profile: Profile, accountId: AccountId) => AccountId,
): Contact {
  decide(parts.open(), contactOf(parts, conversationId).accountId);
  parts.emit('conversations:changed', {});
  parts.sendNow(); // messages held back by the move may go now
  return toContact(contactOf(parts, conversationId));
}

/** A conversation with its draft, message count and verification. */
export function conversation(parts: ServiceParts, conversationId: number): ConversationDetail {
  const db = parts.open().db;
  const summary = listConversations(db).find((c) => c.id === conversationId);
  if (!summary) throw new SottoError('UNKNOWN_CONTACT');
  const extras = conversationExtras(db, conversationId);
  return {
    ...summary,
    draft: extras?.draft ?? null,
    messageCount: extras?.messageCount ?? 0,
    verified: contactOf(parts, conversationId).verified,
  };
}

/**
 * Mutes a conversation for `duration` (null: until unmuted), or unmutes it
 * (undefined); the list and the badge change at once.
 */
export function setConversationMute(
  parts: ServiceParts,
  conversationId: number,
  duration: MuteDuration | undefined,
): Conversation {
  const profile = parts.open();
  contactOf(parts, conversationId);
  const target = { kind: 'conversation', id: conversationId } as const;
  profile.commit(undefined, (db) =>
    duration === undefined ? clearMute(db, target) : setMute(db, target, duration, Date.now()),
  );
  parts.emit('conversations:changed', {});
  parts.sync.publishStatus(profile);
  const row = listConversations(profile.db).find((c) => c.id === conversationId);
  if (!row) throw new SottoError('UNKNOWN_CONTACT');
  return row;
}

/** Stores and queues a text (R4), returns it at once and kicks an outbox pass. */
export function send(parts: ServiceParts, conversationId: number, body: string): HistoryMessage {
  const profile = parts.open();
  const queued = queueText(profile, contactOf(parts, conversationId).accountId, body);
  const message = messageById(parts, queued.id);
  parts.emit('conversations:changed', {});
  parts.sendNow();
  return message;
}

/** Queues a failed message again; its status change goes out as `message:status`. */
export async function retry(parts: ServiceParts, messageId: number): Promise<HistoryMessage> {
  // A message whose upload the user cancelled has no outbox entry yet: its files upload again first.
  if (await retryCancelledUpload(parts.open(), messageId)) {
    const message = messageById(parts, messageId);
    parts.emit('message:status', {
      messageId,
      conversationId: message.conversationId,
      status: message.status,
    });
    parts.sendNow();
    return message;
  }
  const change: EventPayload<'message:status'> | undefined = retryMessage(parts.open(), messageId);
  const message = messageById(parts, messageId);
  if (change) parts.emit('message:status', change);
  parts.sendNow();
  return message;
}

function messageById(parts: ServiceParts, messageId: number): HistoryMessage {
  const message = getMessage(parts.open().db, messageId);
  if (!message) throw new SottoError('INVALID_INPUT', 'no such message');
  return message;
}

/** The contract's view of a contact. */
export function toContact(contact: CoreContact): Contact {
  return {
    accountId: contact.accountId,
    displayName: contact.displayName,
    conversationId: contact.conversationId,
    trust: contact.trust,
    verified: contact.verified,
    blocked: contact.blocked,
  };
}
