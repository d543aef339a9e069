// Muting in the app on the fake bridge: the group header's notification
// choice asks the core (groups:mute / conversations:mute), and the list shows
// a muted row greyed with its marker, its unread count still there. That the
// core stops notifications and the badge is proven by
// tests/integration/service/mute-service.test.ts.
import { beforeEach, describe, expect, it } from 'vitest';
import ConversationList from '../../../renderer/src/components/ConversationList.vue';
import MuteControl from '../../../renderer/src/components/MuteControl.vue';
import { useConversationsStore } from '../../../renderer/src/stores/conversations.ts';
import { useGroupsStore } from '../../../renderer/src/stores/groups.ts';
import { MUTE_CHOICES, MUTE_FOREVER } from '../../../shared/mute.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { waitFor } from '../helpers.ts';
import { useGroupScreens } from '../group-screens.ts';

const screens = useGroupScreens(['Bob', 'Carol']);
let fake: FakeBridge;
beforeEach(() => {
  ({ fake } = screens);
});
const { mountView, openGroup } = screens;

describe('muting', () => {
  it('the group header mutes for 8 hours and unmutes; the list row greys with its count kept', async () => {
    const group = fake.groups.seed({ title: 'Hikers' }, [1]);
    fake.groups.receive(group.groupId, fakeAccountId('ACC1'), 'hi', 1_000);
    const list = mountView(ConversationList);
    await useGroupsStore().refresh();
    const row = () => list.get('[data-testid="group-item"]');
    await waitFor(() => list.find('[data-testid="group-item"]').exists(), 'the group row');
    expect(row().attributes('data-muted')).toBeUndefined();

    const view = await openGroup(group);
    const control = view.get('[data-testid="mute-control"]');
    expect((control.element as HTMLSelectElement).value).toBe('on');
    const before = Date.now();
    await control.setValue('eightHours');
    await waitFor(() => fake.groups.groups[0]!.mutedUntil !== null, 'the core asked');
    expect(fake.groups.groups[0]!.mutedUntil).toBeGreaterThanOrEqual(
      before + MUTE_CHOICES.eightHours,
    );
    await waitFor(() => row().attributes('data-muted') === 'true', 'the row greyed');
    expect(row().find('[data-testid="muted-marker"]').text()).toBe('Muted');
    expect(row().classes()).toContain('muted');
    await waitFor(
      () => view.get('[data-testid="mute-control"]').attributes('data-muted') === 'true',
      'the header shows it',
    );
    // The time it ends is shown as the current choice.
    expect(view.get('[data-testid="mute-control"]').text()).toContain('Muted until');

    await view.get('[data-testid="mute-control"]').setValue('on');
    await waitFor(() => fake.groups.groups[0]!.mutedUntil === null, 'unmuted in the core');
    await waitFor(() => row().attributes('data-muted') === undefined, 'the row normal again');
  });

  it('a muted 1:1 row keeps its unread badge but leaves the total; "until I unmute" stores forever', async () => {
    fake.addConversation({ id: 3, displayName: 'Dan', unreadCount: 4, lastMessageAt: 5_000 });
    const conversations = useConversationsStore();
    await conversations.refresh();
    const list = mountView(ConversationList);
    const totalBefore = conversations.totalUnread;
    await conversations.mute(3, MUTE_CHOICES.always);
    expect(conversations.byId.get(3)?.mutedUntil).toBe(MUTE_FOREVER);
    expect(conversations.totalUnread).toBe(totalBefore - 4);
    const row = () => list.get('[data-conversation-id="3"]');
    await waitFor(() => row().attributes('data-muted') === 'true', 'the row greyed');
    expect(row().get('[data-testid="unread-badge"]').text()).toContain('4');
    await conversations.unmute(3);
    expect(conversations.totalUnread).toBe(totalBefore);
    await waitFor(() => row().attributes('data-muted') === undefined, 'the row normal again');
  });

  it('the control emits only the known choices', async () => {
    const control = mountView(MuteControl, { mutedUntil: null });
    const select = control.get('select');
    for (const value of ['hour', 'week', 'always']) await select.setValue(value);
    expect(control.emitted('mute')).toEqual([
      [MUTE_CHOICES.hour],
      [MUTE_CHOICES.week],
      [MUTE_CHOICES.always],
    ]);
    // A value that is no option (a tampered DOM) emits nothing.
    const option = document.createElement('option');
    option.value = 'constructor';
    select.element.appendChild(option);
    await select.setValue('constructor');
    expect(control.emitted('mute')).toHaveLength(3);
    expect(control.emitted('unmute')).toBeUndefined();
  });
});
