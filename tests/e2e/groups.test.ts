import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { aliceWithCliContacts } from './support/conversation.ts';
import { screenshot, useSuite } from './support/harness.ts';
import { expectAccessible } from './support/axe.ts';
import { expectFocus, expectInViewport, focused } from './support/keyboard.ts';

// A group in the app with two CLI members, all through one real relay
// process: Alice (the app) creates it from her contacts, the three talk both
// ways (the app names each sender), then Alice removes Carol in the members
// panel: Bob still receives, Carol's CLI no longer does. Every new state is
// checked by axe in the light and the dark theme.

const suite = useSuite();

type GroupJson = { groupId: string; title: string; standing: string };
type Line = { body: string; outgoing: boolean; senderName: string | null };

/** Receives with the CLI, then reads its copy of the group's history. */
async function syncAndRead(dir: string): Promise<Line[]> {
  await cli(dir, ['sync']);
  return JSON.parse(await cli(dir, ['--json', 'history', 'Hikers'])) as Line[];
}

async function cliGroups(dir: string): Promise<GroupJson[]> {
  await cli(dir, ['sync']);
  return JSON.parse(await cli(dir, ['--json', 'groups'])) as GroupJson[];
}

const POLL = { timeout: 90_000, interval: 500 };
/** Three profiles, a dozen CLI runs and axe in two themes: minutes on a busy 2-core machine. */
const BUDGET_MS = 480_000;

describe('a group in the app with two CLI members', () => {
  it(
    'creates the group, talks both ways, and removing a member stops their copies',
    async () => {
      const {
        app: alice,
        dirs: [bob, carol],
      } = await aliceWithCliContacts(suite, 'alice walks the long ridge trail', ['Bob', 'Carol']);
      const page = alice.page;

      // New group: the form refuses an empty one field by field, then creates.
      await page.getByTestId('new-group-open').click();
      await page.getByTestId('new-group-create').click();
      await expect.poll(() => page.getByTestId('new-group-name-error').isVisible()).toBe(true);
      expect(await page.getByTestId('group-members-error').isVisible()).toBe(true);
      await expectFocus(page, 'new-group-name');
      await expectAccessible(page, 'new group form with errors');
      await page.getByTestId('new-group-name').fill('Hikers');
      await page.getByTestId('group-contact-filter').fill('car');
      expect(await page.getByTestId('group-contact-option').count()).toBe(1);
      await page.getByTestId('group-contact-option').check();
      await page.getByTestId('group-contact-filter').fill('');
      await page.locator('[data-testid="group-contact-option"]:not(:checked)').check();
      await expectAccessible(page, 'new group form filled');
      await page.getByTestId('new-group-create').click();

      // The group opens, ready to write; the list shows it beside the 1:1 chats.
      await expect.poll(() => page.getByTestId('group-title').textContent()).toBe('Hikers');
      await expectFocus(page, 'chat-composer');
      expect(await page.getByTestId('group-members-open').textContent()).toContain('3 members');
      expect(await page.getByTestId('group-item').filter({ hasText: 'Hikers' }).count()).toBe(1);
      await page.getByTestId('chat-composer').fill('hello hikers');
      await page.getByTestId('chat-composer').press('Enter');

      for (const dir of [bob, carol]) {
        await expect
          .poll(async () => (await syncAndRead(dir)).map((l) => [l.body, l.senderName]), POLL)
          .toEqual([['hello hikers', 'Alice']]);
      }
      await cli(bob, ['send', 'Hikers', 'hi from Bob']);
      await cli(carol, ['send', 'Hikers', 'hi from Carol']);

      // The app names each sender; their colors come from their account ids.
      const sender = (text: string) =>
        page
          .getByTestId('group-message')
          .filter({ hasText: text })
          .getByTestId('group-message-sender');
      await expect.poll(() => sender('hi from Bob').textContent(), POLL).toContain('Bob');
      await expect.poll(() => sender('hi from Carol').textContent(), POLL).toContain('Carol');
      const hues = await page
        .getByTestId('group-message-sender')
        .evaluateAll((els) => els.map((el) => getComputedStyle(el).color));
      expect(hues).toHaveLength(2);

      // The members' receipts come back: "delivered to 2 of 2", with the detail per member.
      const mine = page.getByTestId('group-message').filter({ hasText: 'hello hikers' });
      await expect
        .poll(() => mine.getByTestId('group-delivery-open').getAttribute('data-delivered'), POLL)
        .toBe('2');
      await screenshot(page, 'group');
      await expectAccessible(page, 'group conversation');
      await mine.getByTestId('group-delivery-open').click();
      await expect.poll(() => page.getByTestId('group-delivery-row').count()).toBe(2);
      await expectAccessible(page, 'per-member delivery');
      await page.keyboard.press('Escape');
      await expectFocus(page, 'group-delivery-open');

      // Members panel, from the keyboard: focus moves into it, Escape returns it.
      await page.getByTestId('group-members-open').focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => focused(page)).toBe('h2#group-members-title');
      await page.keyboard.press('Escape');
      await expectFocus(page, 'group-members-open');
      expect(await page.getByTestId('group-members-panel').count()).toBe(0);

      // A member's safety number is one step away, and Back returns to the group.
      await page.keyboard.press('Enter');
      await page
        .getByTestId('group-member')
        .filter({ hasText: 'Bob' })
        .getByTestId('group-member-safety')
        .click();
      await expect
        .poll(() => page.getByTestId('safety-number-digits').isVisible(), POLL)
        .toBe(true);
      expect(await page.locator('#safety-title').textContent()).toContain('Bob');
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByTestId('group-title').textContent()).toBe('Hikers');

      // Members panel: names, the admin badge, "you", a safety number per contact.
      await page.getByTestId('group-members-open').click();
      const members = page.getByTestId('group-member');
      await expect.poll(() => members.count()).toBe(3);
      expect(
        await members.filter({ hasText: 'Alice' }).getByTestId('group-member-self').count(),
      ).toBe(1);
      expect(
        await members.filter({ hasText: 'Alice' }).getByTestId('group-member-admin').count(),
      ).toBe(1);
      expect(await members.getByTestId('group-member-safety').count()).toBe(2);
      await screenshot(page, 'group-members');
      await expectAccessible(page, 'group members panel');
      // At 200% zoom (600×400 CSS pixels) everything stays reachable, one pane at a time.
      await page.setViewportSize({ width: 600, height: 400 });
      await expectInViewport(page, ['group-members-open', 'group-member-remove', 'group-leave']);
      await expectInViewport(page, ['chat-composer']);
      await expectAccessible(page, 'group members panel at 200% zoom');
      await page.setViewportSize({ width: 1200, height: 800 });
      // Leaving asks first; Cancel keeps everything.
      await page.getByTestId('group-leave').click();
      await expectFocus(page, 'group-leave-cancel');
      await expectAccessible(page, 'leave group dialog');
      await page.getByTestId('group-leave-cancel').click();
      await expectFocus(page, 'group-leave');

      // Alice removes Carol; Bob still receives, Carol's CLI no longer does.
      await members.filter({ hasText: 'Carol' }).getByTestId('group-member-remove').click();
      await expect.poll(() => members.count(), POLL).toBe(2);
      await expect
        .poll(() => page.getByTestId('group-members-open').textContent())
        .toContain('2 members');
      await expect
        .poll(async () => (await cliGroups(carol)).map((g) => g.standing), POLL)
        .toEqual(['removed']);
      await page.getByTestId('chat-composer').fill('after Carol left');
      await page.getByTestId('chat-composer').press('Enter');
      await expect
        .poll(async () => (await syncAndRead(bob)).map((l) => l.body), POLL)
        .toContain('after Carol left');
      // Bob has it, so it was sent: Carol drains her mailbox and still lacks it.
      expect((await syncAndRead(carol)).map((l) => l.body)).toEqual([
        'hello hikers',
        'hi from Bob',
        'hi from Carol',
      ]);
      expect(alice.problems).toEqual([]);
    },
    BUDGET_MS,
  );
});
