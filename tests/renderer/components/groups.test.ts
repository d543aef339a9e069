// The group screens on the fake bridge: New group (field errors, filter),
// the group view (sender names, deliveries, identity pause, a group we left)
// and the members panel (admin actions, leave after a confirm).
import { beforeEach, describe, expect, it } from 'vitest';
import type { Router } from 'vue-router';
import NewGroupView from '../../../renderer/src/views/NewGroupView.vue';
import ConversationList from '../../../renderer/src/components/ConversationList.vue';
import { useContactsStore } from '../../../renderer/src/stores/contacts.ts';
import { useGroupsStore } from '../../../renderer/src/stores/groups.ts';
import { groupRouteParam } from '../../../renderer/src/group-route.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { settle, waitFor } from '../helpers.ts';
import { useGroupScreens } from '../group-screens.ts';

const screens = useGroupScreens(['Bob', 'Carol', 'Dave']);
let fake: FakeBridge;
let router: Router;
beforeEach(() => {
  ({ fake, router } = screens);
});
const { mountView, openGroup } = screens;

describe('New group', () => {
  it('refuses an empty form field by field and focuses the first invalid field', async () => {
    const view = mountView(NewGroupView);
    await view.get('form').trigger('submit');
    await settle();
    expect(view.get('[data-testid="new-group-name-error"]').text()).toBe('Give the group a name.');
    expect(view.get('[data-testid="group-members-error"]').text()).toBe(
      'Choose at least one contact.',
    );
    const name = view.get('[data-testid="new-group-name"]');
    expect(name.attributes('aria-invalid')).toBe('true');
    expect(name.attributes('aria-describedby')).toBe('new-group-name-error');
    expect(document.activeElement).toBe(name.element);
    expect(fake.callsOf('groups:create')).toEqual([]);
  });

  it('filters contacts by name without forgetting hidden choices, and creates the group', async () => {
    const view = mountView(NewGroupView);
    await view.get('[data-testid="new-group-name"]').setValue('Hikers');
    const options = () => view.findAll('[data-testid="group-contact-option"]');
    expect(options().map((o) => o.element.parentElement?.textContent?.trim())).toEqual([
      'Bob',
      'Carol',
      'Dave',
    ]);
    await options()[1]!.setValue(true); // Carol
    await view.get('[data-testid="group-contact-filter"]').setValue('bo');
    expect(options()).toHaveLength(1);
    await options()[0]!.setValue(true); // Bob
    expect(view.get('[data-testid="group-chosen-count"]').text()).toBe('2 contacts chosen');
    await view.get('[data-testid="group-contact-filter"]').setValue('zzz');
    expect(view.text()).toContain('No contact matches the filter.');
    await view.get('form').trigger('submit');
    await waitFor(() => fake.callsOf('groups:create').length === 1, 'groups:create');
    expect(fake.callsOf('groups:create')).toEqual([{ title: 'Hikers', members: [2, 1] }]);
    await waitFor(() => router.currentRoute.value.name === 'group', 'the new group');
    const created = useGroupsStore().list[0]!;
    expect(router.currentRoute.value.params['groupId']).toBe(groupRouteParam(created.groupId));
  });

  it("puts the core's refusals on the field they are about; blocked contacts are not offered", async () => {
    fake.contacts[2] = { ...fake.contacts[2]!, blocked: true }; // Dave
    fake.contacts[1] = { ...fake.contacts[1]!, trust: 'changed' }; // Carol
    await useContactsStore().load();
    const view = mountView(NewGroupView);
    expect(view.findAll('[data-testid="group-contact-option"]')).toHaveLength(2);
    await view.get('[data-testid="new-group-name"]').setValue('Hikers');
    await view.get('[data-conversation-id="2"]').setValue(true);
    await view.get('form').trigger('submit');
    await waitFor(() => view.find('[data-testid="group-members-error"]').exists(), 'the error');
    expect(view.get('[data-testid="group-members-error"]').text()).toMatch(/safety number/i);
    expect(view.find('[data-testid="new-group-name-error"]').exists()).toBe(false);
    // The first checkbox (all carry the error) takes focus, so the error is read out.
    expect(document.activeElement).toBe(view.get('[data-conversation-id="1"]').element);

    fake.fail('groups:create', 'INVALID_NAME');
    await view.get('form').trigger('submit');
    await waitFor(() => view.find('[data-testid="new-group-name-error"]').exists(), 'title error');
    expect(view.find('[data-testid="group-members-error"]').exists()).toBe(false);
    expect(router.currentRoute.value.name).not.toBe('group');
  });
});

describe('a group conversation', () => {
  it('names each incoming sender in a stable color, never as HTML; outgoing shows delivery', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1, 2]);
    fake.groups.update(group.groupId, {
      members: group.members.map((m) =>
        m.accountId === fakeAccountId('ACC2') ? { ...m, name: '<img src=x onerror=alert(1)>' } : m,
      ),
    });
    fake.groups.receive(group.groupId, fakeAccountId('ACC1'), 'hi from Bob', 1_000);
    fake.groups.receive(
      group.groupId,
      fakeAccountId('ACC2'),
      'javascript:alert(1) <b>bold</b>',
      2_000,
    );
    fake.groups.receive(group.groupId, fakeAccountId('ACC1'), 'again Bob', 3_000);
    const view = await openGroup(group);
    await waitFor(() => view.findAll('[data-testid="group-message"]').length === 3, 'messages');
    const senders = view.findAll('[data-testid="group-message-sender"]');
    expect(senders.map((s) => s.text())).toEqual(['Bob', '<img src=x onerror=alert(1)>', 'Bob']);
    // The same person has the same color; the hostile name stayed text.
    expect(senders[0]!.attributes('data-hue')).toBe(senders[2]!.attributes('data-hue'));
    expect(view.find('img').exists()).toBe(false);
    expect(view.find('b').exists()).toBe(false);
    expect(view.findAll('[data-testid="message-link"]')).toHaveLength(0);
    expect(view.get('[data-testid="group-members-open"]').text()).toContain('3 members');

    await view.get('[data-testid="chat-composer"]').setValue('hello all');
    await view.get('[data-testid="chat-composer"]').trigger('keydown', { key: 'Enter' });
    await waitFor(() => view.findAll('[data-testid="group-message"]').length === 4, 'the send');
    const delivery = view.get('[data-testid="group-delivery-open"]');
    expect(delivery.text()).toBe('Delivered to 0 of 2');
    await delivery.trigger('click');
    await waitFor(
      () => view.findAll('[data-testid="group-delivery-row"]').length === 2,
      'the delivery rows',
    );
    expect(view.get('[data-testid="group-delivery-list"]').text()).toContain('Not delivered yet');
    await view.get('[data-testid="group-delivery-close"]').trigger('click');
    expect(view.find('[data-testid="group-delivery-dialog"]').exists()).toBe(false);
  });

  it('pauses sending while a member’s safety number changed, and the banner leads back to the group', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1, 2]);
    fake.groups.update(group.groupId, {
      members: group.members.map((m) =>
        m.accountId === fakeAccountId('ACC2') ? { ...m, identityChanged: true } : m,
      ),
    });
    const view = await openGroup(group);
    expect(view.get('[data-testid="identity-banner"]').text()).toContain(
      'Carol reset their identity',
    );
    expect(view.get('[data-testid="chat-composer"]').attributes('disabled')).toBeDefined();
    expect(view.get('[data-testid="composer-blocked"]').text()).toContain(
      "Carol's new safety number",
    );
    const review = view.get('[data-testid="identity-review"]');
    expect(review.attributes('href')).toBe(
      `/chat/2/safety-number?group=${groupRouteParam(group.groupId)}`,
    );
    // The members panel marks the member too, with their safety number one step away.
    await view.get('[data-testid="group-members-open"]').trigger('click');
    const carol = view.get(`[data-account-id="${fakeAccountId('ACC2')}"]`);
    expect(carol.find('[data-testid="group-member-identity"]').exists()).toBe(true);
    expect(carol.get('[data-testid="group-member-safety"]').attributes('aria-label')).toBe(
      'Safety number with Carol',
    );
  });

  it('announces a new incoming message with its sender to screen readers, not the history it opened with', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1, 2]);
    fake.groups.receive(group.groupId, fakeAccountId('ACC1'), 'old news', Date.now() - 5_000);
    const view = await openGroup(group);
    await waitFor(() => view.findAll('[data-testid="group-message"]').length === 1, 'history');
    expect(view.get('[data-testid="chat-announcer"]').text()).toBe('');
    fake.groups.receive(group.groupId, fakeAccountId('ACC2'), 'fresh', Date.now());
    await useGroupsStore().load(group.groupId);
    await waitFor(() => view.get('[data-testid="chat-announcer"]').text() !== '', 'announcement');
    expect(view.get('[data-testid="chat-announcer"]').text()).toContain('Carol');
    expect(view.get('[data-testid="chat-announcer"]').text()).toContain('fresh');
  });

  it('a group we were removed from keeps its history, says so, and has no composer', async () => {
    const group = fake.groups.seed({ title: 'Old club', standing: 'removed' }, [1]);
    fake.groups.receive(group.groupId, fakeAccountId('ACC1'), 'from before', 1_000);
    const view = await openGroup(group);
    await waitFor(() => view.findAll('[data-testid="group-message"]').length === 1, 'history');
    expect(view.get('[data-testid="group-left-notice"]').text()).toContain('An admin removed you');
    expect(view.find('[data-testid="chat-composer"]').exists()).toBe(false);
    await view.get('[data-testid="group-members-open"]').trigger('click');
    expect(view.find('[data-testid="group-leave"]').exists()).toBe(false);
    expect(view.find('[data-testid="group-member-remove"]').exists()).toBe(false);
    expect(view.find('[data-testid="group-add-form"]').exists()).toBe(false);
  });
});

describe('the members panel', () => {
  it('shows "you" and the admin badge; an admin adds, removes and renames', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1, 2]);
    const view = await openGroup(group);
    await view.get('[data-testid="group-members-open"]').trigger('click');
    const panel = () => view.get('[data-testid="group-members-panel"]');
    // Focus moves into the panel, to its heading.
    expect(document.activeElement?.id).toBe('group-members-title');
    const me = view.get(`[data-account-id="${fakeAccountId('ACCOUNT')}"]`);
    expect(me.get('[data-testid="group-member-self"]').text()).toBe('You');
    expect(me.get('[data-testid="group-member-admin"]').text()).toBe('Admin');
    expect(me.find('[data-testid="group-member-remove"]').exists()).toBe(false);
    expect(me.find('[data-testid="group-member-safety"]').exists()).toBe(false);

    // Add: only contacts not in the group are offered.
    const select = view.get('[data-testid="group-add-member"]');
    expect(select.findAll('option:not([disabled])').map((o) => o.text())).toEqual(['Dave']);
    (select.element as HTMLSelectElement).selectedIndex = 1;
    await select.trigger('change');
    await view.get('[data-testid="group-add-form"]').trigger('submit');
    await waitFor(() => view.findAll('[data-testid="group-member"]').length === 4, 'Dave added');
    expect(fake.callsOf('groups:add')).toEqual([{ groupId: group.groupId, conversationId: 3 }]);

    await view
      .get(`[data-account-id="${fakeAccountId('ACC2')}"] [data-testid="group-member-remove"]`)
      .trigger('click');
    await waitFor(() => view.findAll('[data-testid="group-member"]').length === 3, 'Carol gone');
    expect(fake.callsOf('groups:remove')).toEqual([
      { groupId: group.groupId, accountId: fakeAccountId('ACC2') },
    ]);
    expect(panel().text()).toContain('Carol was removed from the group.');
    expect(document.activeElement?.id).toBe('group-members-title');

    await view.get('[data-testid="group-rename"]').setValue('Climbers');
    await view.get('[data-testid="group-rename-form"]').trigger('submit');
    await waitFor(() => view.get('[data-testid="group-title"]').text() === 'Climbers', 'rename');

    // A refused rename shows its error by the field.
    fake.fail('groups:rename', 'NOT_GROUP_ADMIN');
    await view.get('[data-testid="group-rename"]').setValue('Mine now');
    await view.get('[data-testid="group-rename-form"]').trigger('submit');
    await waitFor(() => view.find('[data-testid="group-rename-error"]').exists(), 'the error');
    expect(view.get('[data-testid="group-rename"]').attributes('aria-invalid')).toBe('true');
  });

  it('a member who is not an admin sees no admin actions', async () => {
    const group = fake.groups.seed({ title: 'Theirs' }, [1, 2]);
    fake.groups.update(group.groupId, {
      members: group.members.map((m) => ({ ...m, admin: m.accountId === fakeAccountId('ACC1') })),
    });
    const view = await openGroup(group);
    await view.get('[data-testid="group-members-open"]').trigger('click');
    expect(view.find('[data-testid="group-member-remove"]').exists()).toBe(false);
    expect(view.find('[data-testid="group-add-form"]').exists()).toBe(false);
    expect(view.find('[data-testid="group-rename-form"]').exists()).toBe(false);
    const bob = view.get(`[data-account-id="${fakeAccountId('ACC1')}"]`);
    expect(bob.find('[data-testid="group-member-admin"]').exists()).toBe(true);
    expect(view.find('[data-testid="group-leave"]').exists()).toBe(true);
  });

  it('leaving asks first: Cancel changes nothing, Leave leaves and the composer goes', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1]);
    const view = await openGroup(group);
    await view.get('[data-testid="group-members-open"]').trigger('click');
    await view.get('[data-testid="group-leave"]').trigger('click');
    expect(view.get('[data-testid="group-leave-dialog"]').text()).toContain('Leave Hikers?');
    expect(document.activeElement).toBe(view.get('[data-testid="group-leave-cancel"]').element);
    await view.get('[data-testid="group-leave-cancel"]').trigger('click');
    expect(view.find('[data-testid="group-leave-dialog"]').exists()).toBe(false);
    expect(fake.callsOf('groups:leave')).toEqual([]);
    expect(document.activeElement).toBe(view.get('[data-testid="group-leave"]').element);

    await view.get('[data-testid="group-leave"]').trigger('click');
    await view.get('[data-testid="group-leave-confirm"]').trigger('click');
    await waitFor(() => view.find('[data-testid="group-left-notice"]').exists(), 'the notice');
    expect(fake.callsOf('groups:leave')).toEqual([{ groupId: group.groupId }]);
    expect(view.find('[data-testid="chat-composer"]').exists()).toBe(false);
  });
});

describe('groups in the conversation list', () => {
  it('shows a hostile title as text, and marks a group we left or with a changed member', async () => {
    const hostile = fake.groups.seed({ title: '<img src=x onerror=alert(1)>' }, [1]);
    fake.groups.update(hostile.groupId, {
      members: hostile.members.map((m) => (m.self ? m : { ...m, identityChanged: true })),
    });
    fake.groups.seed({ title: 'Gone', standing: 'left' });
    await useGroupsStore().refresh();
    const list = mountView(ConversationList);
    await settle();
    const items = list.findAll('[data-testid="group-item"]');
    expect(items).toHaveLength(2);
    expect(list.find('img').exists()).toBe(false);
    const first = list.get(`[data-group-id="${hostile.groupId}"]`);
    expect(first.get('[data-testid="conversation-name"]').text()).toBe(
      '<img src=x onerror=alert(1)>',
    );
    expect(first.find('[data-testid="identity-marker"]').exists()).toBe(true);
    expect(list.get('[data-testid="group-left-marker"]').text()).toBe('Left');
  });

  it('New group with no contacts yet says how to get some', async () => {
    fake.contacts.splice(0);
    await useContactsStore().load();
    const view = mountView(NewGroupView);
    expect(view.get('[data-testid="group-no-contacts"]').text()).toContain('invite link');
  });

  it('shows a group beside the 1:1 chats with its preview and unread count', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1]);
    const groups = useGroupsStore();
    await groups.refresh();
    fake.groups.receive(group.groupId, fakeAccountId('ACC1'), 'new in the group', Date.now());
    await groups.refresh();
    const list = mountView(ConversationList);
    await settle();
    const item = list.get('[data-testid="group-item"]');
    expect(item.get('[data-testid="conversation-name"]').text()).toBe('Hikers');
    expect(item.get('[data-testid="conversation-preview"]').text()).toBe('new in the group');
    expect(item.get('[data-testid="unread-badge"]').text()).toContain('1 unread message');
    expect(item.attributes('href')).toBe(`/group/${groupRouteParam(group.groupId)}`);
  });
});
