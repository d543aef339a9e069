import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { expectAccessible } from './support/axe.ts';
import { aliceWithCliContacts } from './support/conversation.ts';
import { useSuite } from './support/harness.ts';
import { drawPng } from './support/media.ts';

// "Delete for me" in Chromium on a real core: Bob's CLI sends an image, the
// app shows it decoded; Alice deletes it from the message's action (keyboard
// focus shows it, a dialog confirms): the row, its search hit and its stored
// file under the profile's attachments folder are gone, and Bob still has
// his copy (nothing is retracted).

const suite = useSuite();
const POLL = { timeout: 90_000, interval: 500 };
/** A profile, a CLI contact, an image through the relay and axe: minutes on a busy machine. */
const BUDGET_MS = 360_000;

const storedFiles = (profileDir: string) =>
  readdirSync(join(profileDir, 'attachments')).filter((name) => name !== 'tmp');

describe('delete for me in the app', () => {
  it(
    'a received image message leaves the list, the search and the profile folder',
    async () => {
      const {
        app: alice,
        root,
        dirs: [bob],
      } = await aliceWithCliContacts(suite, 'alice deletes what she keeps no more', ['Bob']);
      const page = alice.page;
      const profileDir = join(root, 'alice');

      writeFileSync(join(root, 'dawn.png'), await drawPng(page, 120, 80, 30));
      await cli(bob, ['send', 'Alice', 'a first word']);
      await cli(bob, [
        'send',
        'Alice',
        '--file',
        join(root, 'dawn.png'),
        '--caption',
        'the lake at dawn',
      ]);
      const image = page.locator('.message.incoming [data-testid="attachment-image"]');
      await expect
        .poll(
          () => image.evaluate((img: HTMLImageElement) => img.naturalWidth).catch(() => 0),
          POLL,
        )
        .toBe(120);
      expect(storedFiles(profileDir)).toHaveLength(1);

      const search = page.getByTestId('search-input');
      await search.fill('dawn');
      await expect.poll(() => page.getByTestId('search-result').count(), POLL).toBe(1);
      await page.getByTestId('search-clear').click();

      const row = page.locator('[data-testid="message-row"]', { hasText: 'the lake at dawn' });
      const messageId = await row.getAttribute('data-message-id');
      // Keyboard: focus reaches the action (shown while focus is in the message), Enter opens the dialog.
      const action = row.getByTestId('message-delete');
      await action.focus();
      expect(await action.evaluate((el) => getComputedStyle(el).opacity)).toBe('1');
      await page.keyboard.press('Enter');
      const dialog = page.getByTestId('message-delete-dialog');
      await expect.poll(() => dialog.isVisible(), POLL).toBe(true);
      await expectAccessible(page, 'the delete confirmation');
      // Cancel has focus: Enter alone does not delete.
      await page.keyboard.press('Enter');
      await expect.poll(() => dialog.isVisible(), POLL).toBe(false);
      expect(await row.count()).toBe(1);

      await action.click();
      await page.getByTestId('message-delete-confirm').click();
      await expect.poll(() => row.count(), POLL).toBe(0);
      await expect
        .poll(() => page.locator(`[data-message-id="${messageId}"]`).count(), POLL)
        .toBe(0);
      // The other message stays.
      expect(
        await page.locator('[data-testid="message-row"]', { hasText: 'a first word' }).count(),
      ).toBe(1);
      // The preview moved to what stayed.
      await expect
        .poll(() => page.getByTestId('conversation-preview').first().innerText(), POLL)
        .toContain('a first word');
      await search.fill('dawn');
      await expect.poll(() => page.getByTestId('search-none').count(), POLL).toBe(1);
      expect(await page.getByTestId('search-result').count()).toBe(0);
      expect(storedFiles(profileDir)).toEqual([]);

      // Not a retraction: Bob's copy stays.
      const bobsHistory = JSON.parse(await cli(bob, ['--json', 'history', 'Alice'])) as {
        body: string;
      }[];
      expect(bobsHistory.map((m) => m.body)).toContain('the lake at dawn');
    },
    BUDGET_MS,
  );
});
