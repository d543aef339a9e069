import { describe, expect, it } from 'vitest';
import {
  LOCKED_NOTIFICATION,
  notificationForGroupMessage,
} from '../../../electron/main/notifications.ts';
import {
  incomingGroupMessage as incoming,
  openNotifications as open,
} from './notification-fixtures.ts';

// Notifications for group messages (`group:message`), pure: titled by the
// group, what the body shows set by notificationContent as for 1:1.

describe('group notifications', () => {
  it('are titled by the group and show the sender, and the text only when chosen', () => {
    expect(notificationForGroupMessage(incoming, open)).toEqual({
      title: 'Hikers',
      body: 'Bob: meet at noon',
      groupId: incoming.groupId,
    });
    const nameOnly = notificationForGroupMessage(incoming, { ...open, content: 'name' });
    expect(nameOnly).toEqual({
      title: 'Hikers',
      body: 'New message from Bob',
      groupId: incoming.groupId,
    });
    expect(JSON.stringify(nameOnly)).not.toContain('noon');
  });

  it("'nothing' and a locked app show neither the group, the sender nor the text", () => {
    const nothing = notificationForGroupMessage(incoming, { ...open, content: 'nothing' });
    expect(nothing).toEqual({ ...LOCKED_NOTIFICATION, groupId: incoming.groupId });
    expect(JSON.stringify(nothing)).not.toMatch(/Hikers|Bob|noon/);
    for (const content of ['name-and-text', 'name', 'nothing'] as const)
      expect(notificationForGroupMessage(incoming, { ...open, content, unlocked: false })).toEqual(
        LOCKED_NOTIFICATION,
      );
  });

  it('stay quiet for our own messages, a focused window, or when turned off', () => {
    expect(notificationForGroupMessage({ ...incoming, outgoing: true }, open)).toBeUndefined();
    expect(notificationForGroupMessage(incoming, { ...open, focused: true })).toBeUndefined();
    expect(notificationForGroupMessage(incoming, { ...open, enabled: false })).toBeUndefined();
  });

  it("never let a hostile member's group title or name fake a line, and cap the text", () => {
    const hostile = notificationForGroupMessage(
      {
        ...incoming,
        groupTitle: 'Bank\nYour code is 1234',
        senderName: 'Eve\u202eknaB',
        body: 'x'.repeat(5000),
      },
      open,
    )!;
    const controls = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
    expect(hostile.title).toBe('Bank Your code is 1234');
    expect(hostile.body.slice(0, 10)).not.toMatch(controls);
    expect(hostile.body.length).toBeLessThanOrEqual(200 + 130);
    // A blank title and a nameless sender fall back to words, never an id.
    const blank = notificationForGroupMessage(
      { ...incoming, groupTitle: '\n\t', senderName: null },
      { ...open, content: 'name' },
    )!;
    expect(blank).toMatchObject({ title: 'Sotto', body: 'New message from Member' });
    expect(JSON.stringify(blank)).not.toContain('0b0b');
  });
});
