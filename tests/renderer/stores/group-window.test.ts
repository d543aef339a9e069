// The open group's loaded window is capped as a 1:1 one is (MAX_LOADED): a
// long session scrolling back through 10,000 messages holds a bounded window,
// and scrolling forward again pages the dropped end back in.
import { beforeEach, describe, expect, it } from 'vitest';
import { GROUP_PAGE, useGroupsStore } from '../../../renderer/src/stores/groups.ts';
import { MAX_LOADED } from '../../../renderer/src/stores/messages.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import type { GroupSummary } from '../../../shared/ipc/groups.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { setUp } from '../helpers.ts';

const TOTAL = 10_000;
let fake: FakeBridge;
let group: GroupSummary;

beforeEach(async () => {
  ({ fake } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Bob', lastMessageAt: 2_000 });
  await useAppStore().ensureLoaded();
  group = fake.groups.seed({ title: 'Archive' }, [1]);
  for (let i = 0; i < TOTAL; i++)
    fake.groups.receive(group.groupId, fakeAccountId('ACC1'), `m${i}`, 1_000_000 + i);
});

function expectOrderedUnique(bodies: string[]): void {
  expect(new Set(bodies).size).toBe(bodies.length);
  const numbers = bodies.map((b) => Number(b.slice(1)));
  // Contiguous: no page skipped or lost at either end.
  numbers.forEach((n, i) => i > 0 && expect(n).toBe(numbers[i - 1]! + 1));
}

describe('the group history window', () => {
  it('scrolling back through 10,000 messages never holds more than MAX_LOADED, and scrolling forward reloads the newest', async () => {
    const groups = useGroupsStore();
    await groups.load(group.groupId);
    let most = 0;
    while (groups.hasOlder) {
      await groups.loadOlder();
      most = Math.max(most, groups.messages.length);
    }
    expect(most).toBe(MAX_LOADED);
    const bodies = groups.messages.map((m) => m.body);
    expect(bodies[0]).toBe('m0');
    expect(bodies).toHaveLength(MAX_LOADED);
    expectOrderedUnique(bodies);
    // The newest end was dropped on the way up.
    expect(groups.hasNewer).toBe(true);

    let pages = 0;
    while (groups.hasNewer) {
      await groups.loadNewer();
      pages++;
      expect(groups.messages.length).toBeLessThanOrEqual(MAX_LOADED);
    }
    expect(pages).toBeGreaterThanOrEqual((TOTAL - MAX_LOADED) / GROUP_PAGE);
    const back = groups.messages.map((m) => m.body);
    expect(back.at(-1)).toBe(`m${TOTAL - 1}`);
    expect(back).toHaveLength(MAX_LOADED);
    expectOrderedUnique(back);
    expect(groups.hasOlder).toBe(true);
  });

  it('a message that arrives while the reader is in older history waits for paging forward, then shows once', async () => {
    const groups = useGroupsStore();
    await groups.load(group.groupId);
    while (!groups.hasNewer) await groups.loadOlder();
    const before = groups.messages.map((m) => m.id);
    groups.receive(
      fake.groups.receive(group.groupId, fakeAccountId('ACC1'), 'fresh', 1_000_000 + TOTAL),
    );
    expect(groups.messages.map((m) => m.id)).toEqual(before);
    // A re-read (the core's group:changed) does not jump the reader or add the gap's far end.
    await groups.load(group.groupId);
    expect(groups.messages.map((m) => m.id)).toEqual(before);
    while (groups.hasNewer) await groups.loadNewer();
    expect(groups.messages.filter((m) => m.body === 'fresh')).toHaveLength(1);
    expect(groups.messages.at(-1)?.body).toBe('fresh');
  });

  it('sending from older history reopens the group at its newest page, with the sent message last', async () => {
    const groups = useGroupsStore();
    await groups.load(group.groupId);
    while (!groups.hasNewer) await groups.loadOlder();
    await groups.send(group.groupId, 'back to now');
    expect(groups.hasNewer).toBe(false);
    expect(groups.messages.at(-1)?.body).toBe('back to now');
    expect(groups.messages.length).toBeLessThanOrEqual(GROUP_PAGE);
    expectOrderedUnique(groups.messages.slice(0, -1).map((m) => m.body));
  });

  it('live messages at the end keep the window capped (the oldest drop, older pages reload)', async () => {
    const groups = useGroupsStore();
    await groups.load(group.groupId);
    while (groups.messages.length < MAX_LOADED) await groups.loadOlder();
    expect(groups.hasNewer).toBe(false);
    for (let i = 0; i < 5; i++)
      groups.receive(
        fake.groups.receive(group.groupId, fakeAccountId('ACC1'), `live${i}`, 2_000_000 + i),
      );
    expect(groups.messages).toHaveLength(MAX_LOADED);
    expect(groups.messages.at(-1)?.body).toBe('live4');
    expect(groups.hasOlder).toBe(true);
  });
});
