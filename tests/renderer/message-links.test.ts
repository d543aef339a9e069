import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import {
  bodySegments,
  hasInternationalHost,
  MAX_LINK_LENGTH,
  safeHref,
} from '../../renderer/src/message-links.ts';
import MessageBubble from '../../renderer/src/components/MessageBubble.vue';
import LinkConfirmDialog from '../../renderer/src/components/LinkConfirmDialog.vue';
import { useExternalLink } from '../../renderer/src/composables/useExternalLink.ts';
import type { Message } from '../../shared/ipc/contract.ts';
import { plugins, settle, setUp } from './helpers.ts';
import { fakeAccountId } from './fake-bridge.ts';

// Links in messages come from other people: only https is linked, the text is
// never HTML, and nothing opens before the full URL was shown and confirmed.

const links = (body: string) =>
  bodySegments(body).flatMap((s) => (s.kind === 'link' ? [[s.text, s.href]] : []));

describe('links in a message body', () => {
  it('links https URLs and keeps every character of the body, in order', () => {
    const body = 'see https://example.org/a?b=1#c, and (https://example.org/x_(y)) too.';
    const segments = bodySegments(body);
    expect(segments.map((s) => s.text).join('')).toBe(body);
    expect(links(body)).toEqual([
      ['https://example.org/a?b=1#c', 'https://example.org/a?b=1#c'],
      ['https://example.org/x_(y)', 'https://example.org/x_(y)'],
    ]);
  });

  it('never links javascript:, data:, file:, http:// or an https URL with credentials', () => {
    for (const body of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(document.cookie) https:',
      'data:text/html,<script>alert(1)</script>',
      'file:///etc/passwd',
      'http://example.org/plain',
      'https://user:secret@example.org/',
      'https://',
      'https:///no-host',
    ])
      expect(links(body), body).toEqual([]);
    // A backslash ends the link: the parser would read it as "/" and open a.example, not b.example.
    expect(links('https://a.example\\@b.example/')).toEqual([
      ['https://a.example', 'https://a.example/'],
    ]);
    // A javascript: URL written after https:// is part of the path, not a scheme.
    expect(links('https://example.org/javascript:alert(1)')[0]?.[1]).toBe(
      'https://example.org/javascript:alert(1)',
    );
  });

  it('shows a look-alike host as the punycode the browser would open', () => {
    // Cyrillic "а" in place of the Latin "a".
    const [link] = links('pay at https://\u0430pple.com/login now');
    expect(link?.[0]).toBe('https://\u0430pple.com/login');
    expect(link?.[1]).toBe('https://xn--pple-43d.com/login');
    expect(hasInternationalHost(link?.[1] ?? '')).toBe(true);
    expect(hasInternationalHost('https://apple.com/')).toBe(false);
  });

  it('a very long URL is linked whole up to the limit, and beyond it stays text', () => {
    const long = `https://example.org/${'a'.repeat(MAX_LINK_LENGTH - 20)}`;
    expect(links(long)).toEqual([[long, long]]);
    const tooLong = `${long}aaaa`;
    expect(links(tooLong)).toEqual([]);
    expect(bodySegments(tooLong)).toEqual([{ kind: 'text', text: tooLong }]);
    expect(safeHref(tooLong)).toBeNull();
  });
});

function message(body: string): Message {
  return {
    id: 1,
    uuid: 'u1',
    conversationId: 1,
    outgoing: false,
    senderAccount: fakeAccountId('ACC1'),
    senderName: 'Mallory',
    sentAt: Date.UTC(2024, 0, 1),
    receivedAt: Date.UTC(2024, 0, 1),
    body,
    status: 'received',
  };
}

describe('a message with links, in the app', () => {
  let pinia: Pinia;
  beforeEach(() => {
    ({ pinia } = setUp());
  });
  afterEach(() => {
    useExternalLink().cancel();
    vi.restoreAllMocks();
  });

  it('builds link nodes, never HTML, and asks before opening', async () => {
    const opened = vi.spyOn(window, 'open').mockReturnValue(null);
    const body = '<img src=x onerror=alert(1)> https://example.org/p <b>bold</b>';
    const wrapper = mount(MessageBubble, {
      props: { message: message(body), highlighted: false },
      global: { plugins: plugins(pinia) },
    });
    const text = wrapper.get('[data-testid="message-body"]');
    expect(text.text()).toBe(body);
    expect(text.findAll('img, b')).toHaveLength(0);
    const anchors = text.findAll('a');
    expect(anchors).toHaveLength(1);
    expect(anchors[0]!.attributes('href')).toBe('https://example.org/p');

    await anchors[0]!.trigger('click');
    expect(useExternalLink().pending.value?.href).toBe('https://example.org/p');
    expect(opened).not.toHaveBeenCalled();
    useExternalLink().open();
    expect(opened).toHaveBeenCalledWith('https://example.org/p', '_blank', 'noopener,noreferrer');
    expect(useExternalLink().pending.value).toBeNull();
  });

  it('the dialog shows the full URL to be opened, warns about a look-alike host, and cancels', async () => {
    const opened = vi.spyOn(window, 'open').mockReturnValue(null);
    const wrapper = mount(LinkConfirmDialog, {
      global: { plugins: plugins(pinia) },
      attachTo: document.body,
    });
    useExternalLink().request('https://\u0430pple.com/a-very/long/path');
    await settle();
    expect(wrapper.get('[data-testid="link-dialog-url"]').text()).toBe(
      'https://xn--pple-43d.com/a-very/long/path',
    );
    expect(wrapper.find('[data-testid="link-dialog-lookalike"]').exists()).toBe(true);
    await wrapper.get('[data-testid="link-dialog-cancel"]').trigger('click');
    await settle();
    expect(useExternalLink().pending.value).toBeNull();
    expect(opened).not.toHaveBeenCalled();
    // A forged request for something unsafe is never pending.
    useExternalLink().request('javascript:alert(1)');
    expect(useExternalLink().pending.value).toBeNull();
    wrapper.unmount();
  });
});
