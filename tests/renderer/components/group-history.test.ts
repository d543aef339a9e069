// The group screens' history and trust on the fake bridge: unread counts the
// core keeps (shown after a restart, cleared by opening the group), older
// pages loaded when the history is scrolled to the top, and the safety number
// of a member who is not a contact. Real scrolling is proven in Chromium by
// tests/e2e/groups.test.ts; here the layout is stubbed (stubHistoryLayout).
import { beforeEach, describe, expect, it } from 'vitest';
import GroupMemberSafetyView from '../../../renderer/src/views/GroupMemberSafetyView.vue';
import ConversationList from '../../../renderer/src/components/ConversationList.vue';
import { GROUP_PAGE, useGroupsStore } from '../../../renderer/src/stores/groups.ts';
import { groupRouteParam } from '../../../renderer/src/group-route.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { waitFor } from '../helpers.ts';
import { MAX_LOADED } from '../../../renderer/src/stores/messages.ts';
import { useGroupScreens } from '../group-screens.ts';

const screens = useGroupScreens(['Bob']);
let fake: FakeBridge;
beforeEach(() => {
  ({ fake } = screens);
});
const { mountView, openGroup } = screens;

describe('group unread counts', () => {
  it("the list shows the core's count at start, and opening the group in a visible window clears it", async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1]);
    // Arrived while the app was closed: the core's marker says unread.
    fake.groups.receive(group.groupId, fakeAccountId('ACC1'), 'while you were away', 1_000);
    fake.groups.receive(group.groupId, fakeAccountId('ACC1'), 'and again', 2_000);
    const list = mountView(ConversationList);
    await useGroupsStore().refresh();
    await waitFor(() => list.find('[data-testid="group-item"]').exists(), 'the group row');
    const row = () => list.get('[data-testid="group-item"]');
    expect(row().attributes('data-unread')).toBe('2');
    expect(row().get('[data-testid="unread-badge"]').text()).toContain('2');

    await openGroup(group);
    await waitFor(() => fake.groups.markedRead.includes(group.groupId), 'the read marker');
    await waitFor(() => row().attributes('data-unread') === '0', 'the badge cleared');
    expect(row().find('[data-testid="unread-badge"]').exists()).toBe(false);
  });
});

describe('group history', () => {
  it('is virtualized, and scrolling to the top loads the older page', async () => {
    const group = fake.groups.seed({ title: 'Archive' }, [1]);
    const total = GROUP_PAGE * 2 + 10;
    for (let i = 0; i < total; i++)
      fake.groups.receive(group.groupId, fakeAccountId('ACC1'), `note ${i}`, 1_000_000 + i);
    const view = await openGroup(group);
    const groups = useGroupsStore();
    await waitFor(() => groups.messages.length === GROUP_PAGE, 'the newest page');
    // Only rows near the 800 px viewport exist, not the whole page.
    await waitFor(() => view.findAll('[data-testid="group-message"]').length > 0, 'rows');
    expect(view.findAll('[data-testid="group-message"]').length).toBeLessThan(GROUP_PAGE);

    const scroller = view.get('[data-testid="group-history"]');
    (scroller.element as HTMLElement).scrollTop = 0;
    await scroller.trigger('scroll');
    await waitFor(() => groups.messages.length === GROUP_PAGE * 2, 'the older page');
    expect(groups.messages[0]?.body).toBe(`note ${total - GROUP_PAGE * 2}`);
    (scroller.element as HTMLElement).scrollTop = 0;
    await scroller.trigger('scroll');
    await waitFor(() => groups.messages.length === total, 'the oldest page');
    expect(groups.hasOlder).toBe(false);
    expect(groups.messages[0]?.body).toBe('note 0');
  });
});

describe('the capped group history', () => {
  it('scrolling to the bottom after the cap dropped the newest end pages it back in; Jump to latest reopens the end', async () => {
    const group = fake.groups.seed({ title: 'Archive' }, [1]);
    const total = MAX_LOADED + GROUP_PAGE * 3;
    for (let i = 0; i < total; i++)
      fake.groups.receive(group.groupId, fakeAccountId('ACC1'), `note ${i}`, 1_000_000 + i);
    const view = await openGroup(group);
    const groups = useGroupsStore();
    await waitFor(() => groups.messages.length === GROUP_PAGE, 'the newest page');
    while (!groups.hasNewer) await groups.loadOlder();
    await waitFor(() => view.find('[data-testid="jump-latest"]').exists(), 'the jump button');
    const newest = groups.messages.at(-1)!.id;

    const scroller = view.get('[data-testid="group-history"]').element as HTMLElement;
    scroller.scrollTop = scroller.scrollHeight;
    await view.get('[data-testid="group-history"]').trigger('scroll');
    await waitFor(() => groups.messages.at(-1)!.id !== newest, 'the newer page');
    expect(groups.messages.length).toBeLessThanOrEqual(MAX_LOADED);

    await view.get('[data-testid="jump-latest"]').trigger('click');
    await waitFor(() => !groups.hasNewer, 'the newest page again');
    expect(groups.messages.at(-1)?.body).toBe(`note ${total - 1}`);
    await waitFor(() => !view.find('[data-testid="jump-latest"]').exists(), 'the button gone');
  });
});

describe('a failed group message', () => {
  it('offers Retry, which queues it again through groups:retry', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1]);
    fake.groups.messages.push({
      id: 77,
      uuid: 'failed-1',
      groupId: group.groupId,
      outgoing: true,
      senderAccount: fakeAccountId('ACCOUNT'),
      senderName: 'Me',
      sentAt: 5_000,
      receivedAt: 5_000,
      body: 'did not go',
      status: 'failed',
    });
    const view = await openGroup(group);
    const row = () => view.get('[data-message-id="77"]');
    await waitFor(() => view.find('[data-message-id="77"]').exists(), 'the message');
    expect(row().attributes('data-status')).toBe('failed');
    await row().get('[data-testid="message-retry"]').trigger('click');
    await waitFor(() => row().attributes('data-status') === 'queued', 'queued again');
    expect(row().find('[data-testid="message-retry"]').exists()).toBe(false);
    expect(fake.groups.messages.find((m) => m.id === 77)?.status).toBe('queued');
  });
});

describe('a member who is not a contact', () => {
  it('has a safety number screen from the members panel; verifying it shows the badge', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1]);
    const stranger = {
      accountId: fakeAccountId('STRANGER'),
      name: 'Erin',
      admin: false,
      self: false,
      conversationId: null,
      identityChanged: false,
    };
    fake.groups.update(group.groupId, { members: [...group.members, stranger] });
    const view = await openGroup(group);
    await view.get('[data-testid="group-members-open"]').trigger('click');
    const erin = view.get(`[data-account-id="${stranger.accountId}"]`);
    const link = erin.get('[data-testid="group-member-safety"]');
    expect(link.attributes('aria-label')).toBe('Safety number with Erin');
    expect(link.attributes('href')).toBe(
      `/group/${groupRouteParam(group.groupId)}/member/${stranger.accountId}/safety-number`,
    );

    const screen = mountView(GroupMemberSafetyView, {
      groupId: groupRouteParam(group.groupId),
      accountId: stranger.accountId,
    });
    await waitFor(() => screen.find('[data-testid="safety-number-digits"]').exists(), 'digits');
    expect(screen.get('h1').text()).toBe('Safety number with Erin');
    expect(screen.get('[data-testid="safety-number-digits"]').attributes('data-digits')).toBe(
      '1234'.repeat(15),
    );
    await screen.get('[data-testid="verify-button"]').trigger('click');
    await waitFor(() => screen.find('[data-testid="verified-badge"]').exists(), 'the badge');
    expect(fake.groups.verified.has(stranger.accountId)).toBe(true);
  });

  it('a forged member in the address shows the refusal, never a number', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1]);
    const screen = mountView(GroupMemberSafetyView, {
      groupId: groupRouteParam(group.groupId),
      accountId: fakeAccountId('NOBODY'),
    });
    await waitFor(() => screen.find('[role="alert"]').exists(), 'the refusal');
    expect(screen.get('[role="alert"]').text()).toBe('That contact does not exist.');
    expect(screen.find('[data-testid="safety-number-digits"]').exists()).toBe(false);
    expect(screen.find('[data-testid="verify-button"]').exists()).toBe(false);
  });
});
