import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { highlightParts, queryTerms, snippet } from '../../../renderer/src/search-highlight.ts';
import HighlightedText from '../../../renderer/src/components/HighlightedText.vue';

describe('search highlighting', () => {
  it('marks every case-insensitive occurrence of every word', () => {
    expect(highlightParts('Away two, away 2', queryTerms('away 2'))).toEqual([
      { text: 'Away', match: true },
      { text: ' two, ', match: false },
      { text: 'away', match: true },
      { text: ' ', match: false },
      { text: '2', match: true },
    ]);
  });

  it('works for CJK text without spaces', () => {
    const parts = highlightParts('今日は東京へ行きます', queryTerms('東京'));
    expect(parts.filter((p) => p.match).map((p) => p.text)).toEqual(['東京']);
  });

  it('cuts long messages around the first hit', () => {
    const text = `${'a '.repeat(200)}needle${' b'.repeat(200)}`;
    const cut = snippet(text, ['needle'], 20);
    expect(cut.startsWith('…')).toBe(true);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).toContain('needle');
    expect(cut.length).toBeLessThan(70);
  });

  it('renders markup in a message as text, never as HTML', () => {
    const wrapper = mount(HighlightedText, {
      props: { text: '<img src=x onerror=alert(1)> needle', terms: ['needle'] },
    });
    expect(wrapper.find('img').exists()).toBe(false);
    expect(wrapper.text()).toContain('<img src=x onerror=alert(1)>');
    expect(wrapper.find('mark').text()).toBe('needle');
  });
});
