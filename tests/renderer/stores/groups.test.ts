import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { GROUP_PAGE, useGroupsStore } from '../../../renderer/src/stores/groups.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { resetSessionStores } from '../../../renderer/src/stores/session.ts';
import { conversationEntries } from '../../../renderer/src/conversation-entries.ts';
import { groupIdOf, groupRouteParam, returnGroup } from '../../../renderer/src/group-route.ts';
import { SENDER_HUES, senderHue } from '../../../renderer/src/sender-color.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { setUp, waitFor } from '../helpers.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';

let fake: FakeBridge;

beforeEach(async () => {
  ({ fake } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Bob', lastMessageAt: 2_000 });
  fake.addConversation({ id: 2, displayName: 'Carol', lastMessageAt: null });
  await useAppStore().ensureLoaded();
});

describe('the groups store', () => {
  it("shows the core's unread counts, and marking read asks the core to move its marker", async () => {
    const seeded = fake.groups.seed({ title: 'Hikers' }, [1, 2]);
    fake.groups.receive(seeded.groupId, fakeAccountId('ACC1'), 'before the app opened', 1_500);
    const groups = useGroupsStore();
    await groups.refresh();
    const row = () => groups.byId.get(seeded.groupId)!;
    // The count is the core's (it survives restarts): what arrived before the app opened is unread.
    expect(row().unreadCount).toBe(1);

    fake.groups.receive(seeded.groupId, fakeAccountId('ACC2'), 'two', 4_000);
    await groups.refresh();
    expect(row().unreadCount).toBe(2);
    await groups.markRead(seeded.groupId);
    expect(row().unreadCount).toBe(0);
    expect(fake.groups.markedRead).toEqual([seeded.groupId]);
    await groups.refresh();
    expect(row().unreadCount).toBe(0);
  });

  it('pages older messages in before the loaded window, each once, and keeps them on a re-read', async () => {
    const seeded = fake.groups.seed({ title: 'Archive' }, [1]);
    for (let i = 0; i < 2 * GROUP_PAGE + 5; i++)
      fake.groups.receive(seeded.groupId, fakeAccountId('ACC1'), `m${i}`, 1_000 + i);
    const groups = useGroupsStore();
    await groups.load(seeded.groupId);
    expect(groups.messages).toHaveLength(GROUP_PAGE);
    expect(groups.messages.at(-1)?.body).toBe(`m${2 * GROUP_PAGE + 4}`);
    expect(groups.hasOlder).toBe(true);
    await groups.loadOlder();
    await groups.loadOlder();
    expect(groups.hasOlder).toBe(false);
    const bodies = groups.messages.map((m) => m.body);
    expect(bodies).toHaveLength(2 * GROUP_PAGE + 5);
    expect(bodies[0]).toBe('m0');
    expect(new Set(bodies).size).toBe(bodies.length);
    // A re-read (a change from the core) merges the newest page: the older pages stay loaded.
    fake.groups.receive(seeded.groupId, fakeAccountId('ACC1'), 'newest', 9_000);
    await groups.load(seeded.groupId);
    expect(groups.messages).toHaveLength(2 * GROUP_PAGE + 6);
    expect(groups.messages.at(-1)?.body).toBe('newest');
    // Another group starts a window of its own.
    const other = fake.groups.seed({ title: 'Other' }, [1]);
    await groups.load(other.groupId);
    expect(groups.messages).toEqual([]);
    expect(groups.hasOlder).toBe(false);
  });

  it('an older page that answers after the group was closed lands nowhere', async () => {
    const seeded = fake.groups.seed({ title: 'Archive' }, [1]);
    for (let i = 0; i < GROUP_PAGE + 1; i++)
      fake.groups.receive(seeded.groupId, fakeAccountId('ACC1'), `m${i}`, 1_000 + i);
    const groups = useGroupsStore();
    await groups.load(seeded.groupId);
    const older = groups.loadOlder();
    groups.close();
    await older;
    expect(groups.messages).toEqual([]);
  });

  it('opens a group at its newest messages, oldest first, and a send shows at once', async () => {
    const seeded = fake.groups.seed({ title: 'Hikers' }, [1, 2]);
    fake.groups.receive(seeded.groupId, fakeAccountId('ACC2'), 'second', 2_000);
    fake.groups.receive(seeded.groupId, fakeAccountId('ACC1'), 'first', 1_000);
    const groups = useGroupsStore();
    await groups.load(seeded.groupId);
    expect(groups.messages.map((m) => m.body)).toEqual(['first', 'second']);
    expect(groups.open?.title).toBe('Hikers');

    const sent = await groups.send(seeded.groupId, 'third');
    expect(sent).toMatchObject({
      outgoing: true,
      status: 'queued',
      delivered: { count: 0, of: 2 },
    });
    expect(groups.messages.map((m) => m.body)).toEqual(['first', 'second', 'third']);
    expect(groups.byId.get(seeded.groupId)?.lastMessagePreview).toBe('third');
  });

  it('a slower, older answer never overwrites a newer one', async () => {
    const a = fake.groups.seed({ title: 'A' });
    const b = fake.groups.seed({ title: 'B' });
    fake.groups.receive(a.groupId, fakeAccountId('ACCOUNT'), 'in A', 1_000);
    fake.groups.receive(b.groupId, fakeAccountId('ACCOUNT'), 'in B', 1_000);
    const groups = useGroupsStore();
    // Opening A, then B before A's answer arrives: B's messages stay.
    const first = groups.load(a.groupId);
    const second = groups.load(b.groupId);
    await Promise.all([first, second]);
    expect(groups.openId).toBe(b.groupId);
    expect(groups.messages.map((m) => m.body)).toEqual(['in B']);
  });

  it('a group:message event shows the message in the open group and marks it read while visible', async () => {
    const open = fake.groups.seed({ title: 'Open' }, [1]);
    const groups = useGroupsStore();
    const disconnect = connectBridgeEvents();
    try {
      await groups.refresh();
      await groups.load(open.groupId);
      const message = fake.groups.receive(open.groupId, fakeAccountId('ACC1'), 'pushed', 3_000);
      fake.emit('group:message', { ...message, groupTitle: 'Open' });
      expect(groups.messages.map((m) => m.body)).toEqual(['pushed']);
      await waitFor(() => fake.groups.markedRead.includes(open.groupId), 'the read marker');
    } finally {
      disconnect();
    }
  });

  it('a change from the core re-reads the list and the open group', async () => {
    const open = fake.groups.seed({ title: 'Open' }, [1]);
    const other = fake.groups.seed({ title: 'Other' }, [1]);
    const groups = useGroupsStore();
    const disconnect = connectBridgeEvents();
    try {
      await groups.refresh();
      await groups.load(open.groupId);
      fake.groups.receive(open.groupId, fakeAccountId('ACC1'), 'arrived', 3_000);
      fake.groups.receive(other.groupId, fakeAccountId('ACC1'), 'elsewhere', 3_000);
      fake.emit('conversations:changed', {});
      await waitFor(() => groups.messages.some((m) => m.body === 'arrived'), 'the open group');
      await waitFor(() => groups.byId.get(other.groupId)?.unreadCount === 1, 'the list');
      // An outbox change (sync:status) re-reads an open group too: its delivery counts move.
      fake.groups.receive(open.groupId, fakeAccountId('ACC1'), 'second', 4_000);
      fake.emit('sync:status', { connection: 'online', outbox: 0, backlog: null, unread: 0 });
      await waitFor(() => groups.messages.some((m) => m.body === 'second'), 'the re-read');
    } finally {
      disconnect();
    }
  });

  it('locking forgets every group, title and message', async () => {
    const seeded = fake.groups.seed({ title: 'Secret plans' });
    fake.groups.receive(seeded.groupId, fakeAccountId('ACCOUNT'), 'the plan', 1_000);
    const groups = useGroupsStore();
    await groups.refresh();
    await groups.load(seeded.groupId);
    resetSessionStores();
    expect(groups.list).toEqual([]);
    expect(groups.messages).toEqual([]);
    expect(groups.openId).toBeNull();
    expect(JSON.stringify(groups.$state)).not.toContain('Secret plans');
  });

  it("the core's refusals reach the caller as codes (non-admin, left group, blocked contact)", async () => {
    const groups = useGroupsStore();
    const notAdmin = fake.groups.seed({ title: 'Theirs' }, [1]);
    fake.groups.update(notAdmin.groupId, {
      members: notAdmin.members.map((m) => ({ ...m, admin: !m.self })),
    });
    await expect(
      groups.removeMember(notAdmin.groupId, fakeAccountId('ACC1')),
    ).rejects.toMatchObject({
      code: 'NOT_GROUP_ADMIN',
    });
    const left = fake.groups.seed({ title: 'Gone', standing: 'left' });
    await expect(groups.send(left.groupId, 'hello?')).rejects.toMatchObject({
      code: 'NOT_GROUP_MEMBER',
    });
    fake.contacts[1] = { ...fake.contacts[1]!, blocked: true };
    await expect(groups.create('New', [2])).rejects.toMatchObject({ code: 'CONTACT_BLOCKED' });
    expect(groups.list.map((g) => g.title)).toEqual([]);
  });
});

describe('the conversation list with groups', () => {
  it('puts groups and 1:1 chats in one order of activity; never-used chats last', async () => {
    const quiet = fake.groups.seed({ title: 'Quiet', updatedAt: 1_000 });
    const busy = fake.groups.seed({ title: 'Busy', updatedAt: 500 });
    fake.groups.receive(busy.groupId, fakeAccountId('ACCOUNT'), 'latest', 9_000);
    const groups = useGroupsStore();
    await groups.refresh();
    const entries = conversationEntries(
      fake.conversations.map(({ draft: _d, verified: _v, ...c }) => c),
      groups.list,
    );
    expect(
      entries.map((e) => (e.kind === 'group' ? e.group.title : e.conversation.displayName)),
    ).toEqual(['Busy', 'Bob', 'Quiet', 'Carol']);
    expect(quiet.lastMessageAt).toBeNull();
  });
});

describe('group routes', () => {
  it('carry a group id with + and / through the URL-safe alphabet and back', () => {
    const id = `${'a+b/'.repeat(10)}xyz=`;
    const param = groupRouteParam(id);
    expect(param).not.toMatch(/[+/]/);
    expect(groupIdOf(param)).toBe(id);
    expect(returnGroup(param)).toEqual({ name: 'group', params: { groupId: param } });
  });

  it('a forged ?group= query is ignored (only a well-formed group parameter leads anywhere)', () => {
    for (const forged of [
      '../settings',
      'javascript:alert(1)',
      `${'A'.repeat(43)}`,
      `${'A'.repeat(42)}/=`,
      `${'A'.repeat(500)}=`,
      ['x'],
      undefined,
    ])
      expect(returnGroup(forged)).toBeNull();
  });
});

describe('sender colors', () => {
  it('are stable per account id and spread over every hue', () => {
    const ids = Array.from(
      { length: 200 },
      (_, i) => `0b1c2d3e-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    expect(ids.map(senderHue)).toEqual(ids.map(senderHue));
    expect(new Set(ids.map(senderHue)).size).toBe(SENDER_HUES);
    expect(ids.every((id) => senderHue(id) >= 0 && senderHue(id) < SENDER_HUES)).toBe(true);
  });

  it('each hue passes WCAG AA (4.5:1) on the incoming bubble, light and dark', () => {
    const css = (file: string) =>
      readFileSync(join(process.cwd(), 'renderer/src/styles', file), 'utf8');
    const bubble = /--bubble-in:\s*light-dark\((#[0-9a-f]{6}),\s*(#[0-9a-f]{6})\)/i.exec(
      css('main.css'),
    );
    expect(bubble).not.toBeNull();
    const hues = [
      ...css('groups.css').matchAll(
        /\.sender-hue-(\d)\s*\{\s*color:\s*light-dark\((#[0-9a-f]{6}),\s*(#[0-9a-f]{6})\)/gi,
      ),
    ];
    expect(hues.map((h) => Number(h[1]))).toEqual([...Array(SENDER_HUES).keys()]);
    for (const [, , light, dark] of hues) {
      expect(contrast(light!, bubble![1]!)).toBeGreaterThanOrEqual(4.5);
      expect(contrast(dark!, bubble![2]!)).toBeGreaterThanOrEqual(4.5);
    }
  });
});

/** WCAG 2.1 contrast ratio of two #rrggbb colors. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}
