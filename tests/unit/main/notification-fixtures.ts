import type { EventPayload, Message } from '../../../shared/ipc/contract.ts';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';

// The messages the notification tests feed main's pure notification
// decisions: one incoming line from Bob, as a 1:1 message and as a group
// message, and the settings under which a notification shows everything.

/** What a 1:1 and a group message from Bob share: sender, times, body, status. */
const fromBob = {
  id: 1,
  uuid: 'u',
  outgoing: false,
  senderAccount: accountIdSchema.parse('0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b'),
  senderName: 'Bob',
  sentAt: 1,
  receivedAt: 2,
  body: 'meet at noon',
  status: 'received',
} as const;

/** Bob's incoming 1:1 message in conversation 7. */
export const incomingMessage: Message = { ...fromBob, conversationId: 7 };

/** Bob's incoming message in the group 'Hikers'. */
export const incomingGroupMessage: EventPayload<'group:message'> = {
  ...fromBob,
  groupId: `${'G'.repeat(43)}=`,
  groupTitle: 'Hikers',
};

/** Unlocked, notifications on, showing name and text, window not focused. */
export const openNotifications = {
  unlocked: true,
  enabled: true,
  content: 'name-and-text',
  focused: false,
} as const;
