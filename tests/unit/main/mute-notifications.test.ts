import { describe, expect, it } from 'vitest';
import type { EventPayload } from '../../../shared/ipc/contract.ts';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import {
  notificationForGroupMessage,
  notificationForMessage,
} from '../../../electron/main/notifications.ts';

// A message the core marked `muted` (its conversation or group was muted when
// it arrived) raises no notification, whatever the content setting; the same
// message unmuted does.

const sender = accountIdSchema.parse('0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b');
const direct: EventPayload<'message:new'> = {
  id: 1,
  uuid: 'u',
  conversationId: 3,
  outgoing: false,
  senderAccount: sender,
  senderName: 'Bob',
  sentAt: 1,
  receivedAt: 2,
  body: 'psst',
  status: 'received',
};
const inGroup: EventPayload<'group:message'> = {
  ...direct,
  groupId: `${'G'.repeat(43)}=`,
  groupTitle: 'Hikers',
};

describe('notifications of muted conversations', () => {
  for (const content of ['name-and-text', 'name', 'nothing'] as const) {
    const context = { unlocked: true, enabled: true, content, focused: false };
    it(`none for a muted 1:1 or group message ('${content}'); one when not muted`, () => {
      expect(notificationForMessage({ ...direct, muted: true }, context)).toBeUndefined();
      expect(notificationForGroupMessage({ ...inGroup, muted: true }, context)).toBeUndefined();
      expect(notificationForMessage({ ...direct, muted: false }, context)).toBeDefined();
      expect(notificationForGroupMessage({ ...inGroup, muted: false }, context)).toBeDefined();
    });
  }
});
