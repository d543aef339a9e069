// The virtualized history. happy-dom has no layout engine: elements report
// no size and nothing scrolls by itself. So the scroll container is given a
// fixed clientHeight (what the virtualizer reads for its viewport) and every
// row an offsetHeight of 64 px (what it measures). These tests prove that the DOM
// holds a bounded window of rows whatever the number of messages; real
// scrolling, measuring and jumping are proven in Chromium by
// tests/e2e/long-history.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import MessageList from '../../../renderer/src/components/MessageList.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { MAX_LOADED, useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import {
  pinnedDay,
  toHistoryRows,
  type HistoryRow,
  type PlacedRow,
} from '../../../renderer/src/components/message-rows.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { plugins, settle, setUp, stubHistoryLayout } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;
let restoreLayout: () => void;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  fake.addMessages(1, 100_000);
  await useAppStore().ensureLoaded();
  restoreLayout = stubHistoryLayout();
});

afterEach(() => restoreLayout());

function mountList() {
  return mount(MessageList, {
    props: { name: 'Carol' },
    global: { plugins: plugins(pinia) },
    attachTo: document.body,
  });
}

describe('the virtualized history', () => {
  it('a 100,000-message conversation scrolled back to a full window renders fewer than 100 message rows', async () => {
    const messages = useMessagesStore();
    await messages.openLatest(1);
    while (messages.messages.length < MAX_LOADED) await messages.loadOlder();
    const wrapper = mountList();
    await settle();
    const rows = wrapper.findAll('[data-testid="message-row"]');
    // 800 px of viewport over 64 px rows is about 13 rows, plus the overscan on each side.
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(40);
    expect(messages.messages).toHaveLength(MAX_LOADED);
    wrapper.unmount();
  });

  it('even with all 100,000 messages in the store, only a window of rows exists in the DOM', async () => {
    const messages = useMessagesStore();
    await messages.openLatest(1);
    // Bypass the store's cap on purpose: the virtualizer alone must bound the DOM.
    messages.messages = [...fake.messages];
    const wrapper = mountList();
    await settle();
    const rows = wrapper.findAll('[data-testid="message-row"]');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(100);
    // The spacer stands for the whole list: far taller than what is rendered.
    const inner = wrapper.get('.history-inner').element as HTMLElement;
    expect(parseInt(inner.style.height, 10)).toBeGreaterThan(100_000 * 40);
    wrapper.unmount();
  });

  it('rows carry their id and status for the e2e test and screen readers', async () => {
    const messages = useMessagesStore();
    await messages.openLatest(1);
    const wrapper = mountList();
    await settle();
    const row = wrapper.get('[data-testid="message-row"]');
    const id = Number(row.attributes('data-message-id'));
    const message = messages.messages.find((m) => m.id === id);
    expect(message).toBeDefined();
    expect(row.attributes('data-status')).toBe(message?.status);
    wrapper.unmount();
  });

  it('a failed outgoing message offers Retry, which re-queues it', async () => {
    fake.messages = [];
    fake.addMessages(1, 1);
    fake.messages[0]!.status = 'failed';
    const messages = useMessagesStore();
    await messages.openLatest(1);
    const wrapper = mountList();
    await settle();
    await wrapper.get('[data-testid="message-retry"]').trigger('click');
    await settle();
    expect(fake.callsOf('messages:retry')).toEqual([{ messageId: fake.messages[0]!.id }]);
    expect(wrapper.get('[data-testid="message-row"]').attributes('data-status')).toBe('queued');
    wrapper.unmount();
  });
});

describe('day separators', () => {
  it('separate messages of different days, one per day', () => {
    const rows = toHistoryRows(fake.messages.slice(0, 3 * 1440));
    expect(rows.filter((r) => r.kind === 'day')).toHaveLength(3);
    expect(rows[0]?.kind).toBe('day');
  });
});

describe('the pinned day chip', () => {
  /** Rows laid out 64 px apart from 8 px down (the list's top padding). */
  function placed(rows: HistoryRow[]): PlacedRow[] {
    return rows.map((row, i) => ({ start: 8 + i * 64, end: 8 + (i + 1) * 64, row }));
  }

  it('hides while the in-list separator is at the top (a short conversation)', () => {
    const rows = placed(toHistoryRows(fake.messages.slice(0, 3)));
    expect(pinnedDay(rows, 0)).toBeNull();
  });

  it('names the day of the topmost message once its separator scrolled away', () => {
    const rows = placed(toHistoryRows(fake.messages.slice(0, 20)));
    // Row 4 (the fourth message) spans 264–328 px: it is the topmost at 320.
    expect(pinnedDay(rows, 5 * 64)).toBe(fake.messages[3]?.sentAt);
  });

  it("hides while the next day's separator passes under it", () => {
    // The last two messages of 1 January, then 2 January's separator.
    const rows = placed(toHistoryRows(fake.messages.slice(1438, 1445)));
    const separator = rows.findIndex((r, i) => i > 0 && r.row.kind === 'day');
    const at = rows[separator]?.start ?? 0;
    expect(pinnedDay(rows, at - 100)).not.toBeNull();
    expect(pinnedDay(rows, at - 20)).toBeNull();
    expect(pinnedDay(rows, at + 10)).toBeNull();
    expect(pinnedDay(rows, at + 64)).toBe(fake.messages[1440]?.sentAt);
  });

  it('a short conversation shows one day label, not a pinned copy over the separator', async () => {
    fake.messages = [];
    fake.addMessages(1, 3, { start: Date.now() - 10 * 60_000 });
    await useMessagesStore().openLatest(1);
    const wrapper = mountList();
    await settle();
    const labels = wrapper.findAll('[data-testid="day-separator"]');
    expect(labels).toHaveLength(1);
    expect(labels[0]?.classes()).toContain('day-separator');
    expect(wrapper.find('.day-pinned').exists()).toBe(false);
    wrapper.unmount();
  });

  it('the newest messages of a long conversation still carry a day label', async () => {
    await useMessagesStore().openLatest(1);
    const wrapper = mountList();
    await settle();
    expect(wrapper.findAll('[data-testid="day-separator"]').length).toBeGreaterThan(0);
    wrapper.unmount();
  });
});
