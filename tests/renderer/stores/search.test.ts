import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { SEARCH_DEBOUNCE_MS, useSearchStore } from '../../../renderer/src/stores/search.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useConversationsStore } from '../../../renderer/src/stores/conversations.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import SearchResults from '../../../renderer/src/components/SearchResults.vue';
import type { FakeBridge } from '../fake-bridge.ts';
import { plugins, settle, setUp, testRouter } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;
const ignore = () => undefined;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  fake.addConversation({ id: 2, displayName: 'Dave' });
  fake.addMessages(1, 500, {
    body: (i) => (i === 321 ? 'the needle in the haystack' : `hay ${i}`),
  });
  fake.addMessages(2, 10, { body: (i) => (i === 4 ? 'another Needle here' : `straw ${i}`) });
  await useAppStore().ensureLoaded();
  await useConversationsStore().refresh();
  vi.useFakeTimers();
});

afterEach(() => vi.useRealTimers());

describe('search', () => {
  it('waits for a pause in typing and searches once, for the last query', async () => {
    const search = useSearchStore();
    search.setQuery('n', ignore);
    search.setQuery('ne', ignore);
    search.setQuery('needle', ignore);
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS - 1);
    expect(fake.callsOf('messages:search')).toEqual([]);
    expect(search.searching).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.callsOf('messages:search')).toEqual([{ query: 'needle', limit: 50 }]);
    expect(search.results.map((m) => m.body)).toEqual([
      'the needle in the haystack',
      'another Needle here',
    ]);
    expect(search.searching).toBe(false);
  });

  it('clearing the box drops pending searches and results', async () => {
    const search = useSearchStore();
    search.setQuery('needle', ignore);
    search.clear();
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS * 2);
    expect(fake.callsOf('messages:search')).toEqual([]);
    expect(search.results).toEqual([]);
    expect(search.active).toBe(false);
  });

  it('results show conversation, sender and the matched words as <mark> nodes, and link to the message', async () => {
    vi.useRealTimers();
    const router = testRouter([
      { path: '/', component: { template: '<div />' } },
      { path: '/chat/:id', name: 'chat', component: { template: '<div />' } },
    ]);
    await router.push('/');
    await useSearchStore().run('needle');
    const wrapper = mount(SearchResults, { global: { plugins: plugins(pinia, router) } });
    await settle();
    const results = wrapper.findAll('[data-testid="search-result"]');
    expect(results).toHaveLength(2);
    const first = results[0]!;
    expect(first.text()).toContain('Carol');
    expect(first.text()).toContain('You:'); // message 321 is outgoing
    expect(results[1]!.text()).toContain('Dave');
    expect(results[1]!.text()).toContain('Contact 2:'); // the sender of an incoming one
    expect(first.findAll('mark').map((m) => m.text())).toEqual(['needle']);
    expect(results[1]!.findAll('mark').map((m) => m.text())).toEqual(['Needle']);
    const needle = fake.messages.find((m) => m.body === 'the needle in the haystack')!;
    expect(first.attributes('href')).toBe(`/chat/1?message=${needle.id}`);
  });

  it('a jump to a hit loads its neighbourhood and highlights it', async () => {
    vi.useRealTimers();
    const needle = fake.messages.find((m) => m.body === 'the needle in the haystack')!;
    const messages = useMessagesStore();
    await messages.openLatest(1);
    expect(messages.messages.some((m) => m.id === needle.id)).toBe(false);
    await messages.jumpTo(needle.id);
    expect(messages.highlightedId).toBe(needle.id);
    expect(messages.messages.some((m) => m.id === needle.id)).toBe(true);
  });

  it('an answer to an older query never replaces the newer one', async () => {
    vi.useRealTimers();
    const search = useSearchStore();
    const slow = search.run('needle');
    const fast = search.run('straw');
    await Promise.all([slow, fast]);
    expect(search.answered).toBe('straw');
    expect(search.results.every((m) => m.body.includes('straw'))).toBe(true);
  });
});
