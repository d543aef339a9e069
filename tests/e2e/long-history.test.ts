import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addContact, Profile } from '../../electron/core/index.ts';
import { importMessages, type ImportedMessage } from '../../electron/core/history/bulk-import.ts';
import { setSetting } from '../../electron/core/profile/settings.ts';
import { newMessageId } from '../../electron/core/messaging/message-id.ts';
import { cardOf, TEST_KDF, tempDir } from '../support/profiles.ts';
import { pollWhileScrolling, unlock } from './support/conversation.ts';
import { screenshot, useSuite } from './support/harness.ts';

// A 100,000-message conversation in the real renderer: the chat view is
// virtualized (fewer than 100 rows in the DOM wherever it is scrolled) and a
// search hit far back in time opens at that message.

const COUNT = 100_000;
const PASSPHRASE = 'a long history passphrase';

let profileDir: string;

const suite = useSuite(async () => {
  profileDir = join(tempDir(), 'alice');
  const alice = await Profile.create(profileDir, {
    displayName: 'Alice',
    passphrase: PASSPHRASE,
    kdfCost: TEST_KDF,
  });
  const carol = await Profile.create(join(tempDir(), 'carol'), {
    displayName: 'Carol',
    passphrase: PASSPHRASE,
    kdfCost: TEST_KDF,
  });
  try {
    addContact(alice, cardOf(carol));
    alice.commit(undefined, (db) => setSetting(db, 'relay', 'ws://127.0.0.1:9')); // offline: nothing listens there
    const start = Date.UTC(2024, 0, 1);
    function* history(): Generator<ImportedMessage> {
      for (let i = 0; i < COUNT; i++) {
        const sentAt = start + i * 60_000; // one a minute: about 70 days, so day separators appear
        const outgoing = i % 3 === 0;
        yield {
          uuid: newMessageId(sentAt),
          conversationWith: carol.account.accountId,
          outgoing,
          senderAccount: outgoing ? alice.account.accountId : carol.account.accountId,
          senderDevice: 1,
          sentAt,
          receivedAt: sentAt,
          body: i === 1_234 ? 'the needle in the haystack' : `message number ${i}`,
          status: outgoing ? 'delivered' : 'received',
        };
      }
    }
    importMessages(alice, history());
  } finally {
    await alice.close();
    await carol.close();
  }
});

describe('a 100,000-message conversation', () => {
  it('keeps the DOM under 100 message rows and jumps to any point', async () => {
    const app = await suite.open(profileDir);
    const { page } = app;
    await unlock(page, PASSPHRASE);
    await page.getByTestId('conversation-item').filter({ hasText: 'Carol' }).click();

    const rows = page.getByTestId('message-row');
    await expect
      .poll(() => rows.filter({ hasText: `message number ${COUNT - 1}` }).count())
      .toBe(1);
    expect(await rows.count()).toBeLessThan(100);
    expect(await page.getByTestId('day-separator').count()).toBeGreaterThan(0);
    // The pinned day label sits above the history, never over a visible message's text.
    const covered = await page.evaluate(() => {
      const pin = document.querySelector('.day-pinned')?.getBoundingClientRect();
      const view = document.querySelector('[data-testid="chat-history"]')?.getBoundingClientRect();
      if (!pin || !view) return -1;
      return [...document.querySelectorAll('[data-testid="message-body"]')].filter((body) => {
        const r = body.getBoundingClientRect();
        const top = Math.max(r.top, view.top);
        const bottom = Math.min(r.bottom, view.bottom);
        return bottom > top && bottom > pin.top && top < pin.bottom;
      }).length;
    });
    expect(covered).toBe(0);
    await screenshot(page, '08-long-history');

    // Scroll up through older pages: each scroll to the top must bring an older
    // page (waited for, not slept on), and rows are recycled, never accumulated.
    const scroller = page.getByTestId('chat-history');
    const oldestShown = async (): Promise<number> => {
      // The body alone: a row's whole text runs the body into its time ("…99900" + "9:01").
      const numbers = (await page.getByTestId('message-body').allTextContents()).flatMap((text) => {
        const match = /^message number (\d+)$/.exec(text.trim());
        return match ? [Number(match[1])] : [];
      });
      return numbers.length > 0 ? Math.min(...numbers) : Number.POSITIVE_INFINITY;
    };
    const first = await oldestShown();
    let oldest = first;
    // A scroll to the top may first show a few older rows the virtualizer
    // already held (overscan) rather than a new page, so scroll until the
    // rows shown are more than four pages (of 50) back, at most 12 times.
    for (let i = 0; i < 12 && oldest >= first - 200; i++) {
      const before = oldest;
      await pollWhileScrolling(scroller, 'top', oldestShown, { timeout: 90_000 }).toBeLessThan(
        before,
      );
      oldest = await oldestShown();
      expect(await rows.count()).toBeLessThan(100);
    }
    // Older pages were loaded: far before anything the first page held.
    expect(oldest).toBeLessThan(first - 200);

    // The relay is unreachable: a new message is kept and queued, and the banner counts it.
    await expect
      .poll(() => page.getByTestId('offline-banner').getAttribute('data-connection'), {
        timeout: 90_000,
      })
      .toBe('offline');
    await page.getByTestId('chat-composer').fill('written while offline');
    await page.getByTestId('chat-composer').press('Enter');
    await expect
      .poll(() => rows.filter({ hasText: 'written while offline' }).getAttribute('data-status'))
      .toBe('queued');
    await expect.poll(() => page.getByTestId('outbox-count').getAttribute('data-count')).toBe('1');

    // A hit from the first days of the conversation opens right there.
    await page.getByTestId('search-input').fill('needle');
    await page.getByTestId('search-result').filter({ hasText: 'haystack' }).click();
    const needle = rows.filter({ hasText: 'the needle in the haystack' });
    await expect.poll(() => needle.getAttribute('data-highlighted')).toBe('true');
    expect(await rows.count()).toBeLessThan(100);
    expect(await needle.isVisible()).toBe(true);

    // And from there, scrolling down pages forward in time (and rows stay recycled).
    const newestShown = async () =>
      Math.max(
        ...(await rows.allTextContents()).map((text) =>
          Number(/message number (\d+)/.exec(text)?.[1] ?? -1),
        ),
      );
    const beforeScroll = await newestShown();
    await pollWhileScrolling(scroller, 'bottom', newestShown).toBeGreaterThan(beforeScroll + 50);
    expect(await rows.count()).toBeLessThan(100);
    expect(app.problems).toEqual([]);
  });
});
