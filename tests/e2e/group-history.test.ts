import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { aliceWithCliContacts, pollWhileScrolling, unlock } from './support/conversation.ts';
import { useSuite } from './support/harness.ts';
import { expectAccessible } from './support/axe.ts';

// A group's unread count and history across a restart of the app, in real
// Chromium over a real relay process: a CLI member writes more than a page
// while the group is closed, the app quits and starts again, the list still
// shows the count (the core's read marker), opening the group clears it, and
// scrolling to the top loads the older page until the first message shows.

const suite = useSuite();

const PASSPHRASE = 'alice keeps an archive of the ridge';
const COUNT = 80; // more than a page (GROUP_PAGE, 50): the first message is on an older page
const POLL = { timeout: 90_000, interval: 500 };
/** Two profiles, a few CLI runs, an app restart and axe: minutes on a busy 2-core machine. */
const BUDGET_MS = 420_000;

describe('a group across an app restart', () => {
  it(
    'keeps its unread count, clears it when opened, and loads older messages on scroll',
    async () => {
      const start = await aliceWithCliContacts(suite, PASSPHRASE, ['Bob']);
      const [bob] = start.dirs;
      const aliceDir = start.app.profileDir;
      let app = start.app;
      let page = app.page;

      await page.getByTestId('new-group-open').click();
      await page.getByTestId('new-group-name').fill('Archive');
      await page.getByTestId('group-contact-option').check();
      await page.getByTestId('new-group-create').click();
      await expect.poll(() => page.getByTestId('group-title').textContent()).toBe('Archive');
      // Away from the group: what arrives now is unread.
      await page.getByTestId('conversation-item').filter({ hasText: 'Bob' }).click();
      await expect.poll(() => page.getByTestId('chat-view').isVisible()).toBe(true);

      await expect
        .poll(async () => {
          await cli(bob, ['sync']);
          return cli(bob, ['groups']);
        }, POLL)
        .toContain('Archive');
      const bodies = Array.from({ length: COUNT }, (_, i) =>
        i === 0 ? 'the very first note' : `note ${i}`,
      );
      await cli(bob, ['send', 'Archive', '--stdin'], `${bodies.join('\n')}\n`);
      const groupRow = () => page.getByTestId('group-item').filter({ hasText: 'Archive' });
      await expect.poll(() => groupRow().getAttribute('data-unread'), POLL).toBe(String(COUNT));

      // Quit and start again: the count comes back from the encrypted database.
      await suite.close(app);
      app = await suite.open(aliceDir);
      page = app.page;
      await unlock(page, PASSPHRASE);
      await expect.poll(() => groupRow().getAttribute('data-unread'), POLL).toBe(String(COUNT));
      expect(await groupRow().getByTestId('unread-badge').textContent()).toContain(String(COUNT));
      await expectAccessible(page, 'conversation list with an unread group');

      // Open and visible: read. The newest page shows, the first message is not loaded yet.
      await groupRow().click();
      await expect.poll(() => groupRow().getAttribute('data-unread'), POLL).toBe('0');
      const messages = page.getByTestId('group-message');
      await expect
        .poll(() => messages.filter({ hasText: `note ${COUNT - 1}` }).isVisible(), POLL)
        .toBe(true);
      const first = messages.filter({ hasText: 'the very first note' });
      expect(await first.count()).toBe(0);
      // Scrolling up loads the older page; the first message becomes visible.
      const scroller = page.getByTestId('group-history');
      await pollWhileScrolling(scroller, 'top', () => first.isVisible(), POLL).toBe(true);
      expect(await messages.count()).toBeLessThan(COUNT);
      await expectAccessible(page, 'group history scrolled to its first message');
      expect(app.problems).toEqual([]);
    },
    BUDGET_MS,
  );
});
