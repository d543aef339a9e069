import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/profiles.ts';
import {
  type AppWindow,
  readInvite,
  screenshot,
  useSuite,
  waitForStrength,
} from './support/harness.ts';
import { expectAccessible } from './support/axe.ts';
import { addFromInvite, firstRun } from './support/conversation.ts';
import { expectFocus, expectInViewport, focused, tabTo } from './support/keyboard.ts';

// Alice uses the app with the keyboard only (Bob, her contact, uses the mouse:
// he is only there to talk to). At every screen state the journey checks
// where focus is, and runs axe-core in the light and the dark theme: zero
// WCAG 2.1 A/AA violations. Then the same screens in a narrow window and at
// 200% zoom: every control of the journey is reachable inside the viewport
// (the recovery key's "I have written it down" is checked in backup.test.ts).

const suite = useSuite();
const ALICE_PASS = 'alice types with the keyboard only';
const LINK = 'https://example.org/a/long/path?with=query&and=more#fragment';

let alice: AppWindow | undefined;

const press = (page: Page, key: string) => page.keyboard.press(key);

async function bobAddsAliceAndWrites(bob: AppWindow, aliceInvite: string): Promise<void> {
  const page = bob.page;
  await addFromInvite(page, aliceInvite);
  await page.getByTestId('chat-composer').fill(`Hi Alice, the notes are at ${LINK}`);
  await page.getByTestId('chat-composer').press('Enter');
}

describe('the app with the keyboard only, checked by axe in both themes', () => {
  it('creates a profile, adds a contact, talks, searches, visits settings, verifies, locks and unlocks', async () => {
    const w = await suite.open(join(tempDir(), 'alice'));
    alice = w;
    const page = w.page;
    const bob = await suite.open(join(tempDir(), 'bob'));
    const bobInvite = await firstRun(
      bob.page,
      'Bob',
      'bob uses a mouse and that is fine',
      suite.relay.url,
    );

    // First run. An empty submit names the missing name and puts focus on it.
    await expect.poll(() => page.getByTestId('welcome-name').isVisible()).toBe(true);
    await expectAccessible(page, 'welcome');
    await tabTo(page, 'welcome-name');
    await press(page, 'Enter');
    await expectFocus(page, 'welcome-name');
    expect(await page.getByTestId('welcome-name').getAttribute('aria-describedby')).toContain(
      'welcome-name-error',
    );
    await expect.poll(() => page.getByTestId('welcome-name-error').isVisible()).toBe(true);
    await expectAccessible(page, 'welcome, errors shown');

    await page.keyboard.type('Alice');
    await tabTo(page, 'welcome-passphrase');
    await page.keyboard.type(ALICE_PASS);
    await tabTo(page, 'welcome-passphrase-confirm');
    await page.keyboard.type(ALICE_PASS);
    await tabTo(page, 'welcome-relay');
    await page.keyboard.type(suite.relay.url);
    await waitForStrength(page);
    await press(page, 'Enter');
    await expectFocus(page, 'ready-title');
    const aliceInvite = await readInvite(page);
    await expectAccessible(page, 'invite after first run');
    await tabTo(page, 'invite-continue');
    await press(page, 'Enter');
    await expectFocus(page, 'home-title');
    await expectAccessible(page, 'home, no conversations');

    // Add Bob from his invite: a bad one first (its error is tied to the field), then his.
    await tabTo(page, 'add-contact-open', { backwards: true });
    await press(page, 'Enter');
    await expect.poll(() => focused(page)).toMatch(/h1#add-contact-title/);
    await tabTo(page, 'add-contact-invite');
    await page.keyboard.insertText('sotto://invite/2#not-really');
    await tabTo(page, 'add-contact-submit');
    await press(page, 'Enter');
    await expect.poll(() => page.getByTestId('add-contact-error').isVisible()).toBe(true);
    await expectAccessible(page, 'add contact, bad invite');
    await tabTo(page, 'add-contact-invite', { backwards: true });
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(bobInvite);
    await tabTo(page, 'add-contact-submit');
    await press(page, 'Enter');
    // The new conversation opens with focus in its composer.
    await expectFocus(page, 'chat-composer');
    await expectAccessible(page, 'chat, empty');

    // Send with Enter; Bob answers with a link.
    await page.keyboard.type('Hello Bob, typed without a mouse');
    await press(page, 'Enter');
    await expect
      .poll(() => page.getByTestId('message-row').filter({ hasText: 'without a mouse' }).count())
      .toBe(1);
    await bobAddsAliceAndWrites(bob, aliceInvite);
    const link = page.getByTestId('message-link');
    await expect.poll(() => link.count(), { timeout: 90_000 }).toBe(1);
    await expect
      .poll(() => page.getByTestId('conversation-item').first().getAttribute('data-unread'))
      .toBe('0'); // read where it arrived: no badge on the open conversation
    await expectAccessible(page, 'chat with messages and a link');
    await page.evaluate(() => (document.documentElement.className = 'theme-dark'));
    await screenshot(page, '11-chat-dark');
    await page.evaluate(() => (document.documentElement.className = ''));

    // The link: the dialog shows the whole URL; Escape cancels, Open hands it to main.
    await tabTo(page, 'message-link', { backwards: true });
    await press(page, 'Enter');
    await expect.poll(() => page.getByTestId('link-dialog-url').textContent()).toContain(LINK);
    await expectFocus(page, 'link-dialog-cancel');
    await expectAccessible(page, 'link dialog');
    await press(page, 'Escape');
    await expectFocus(page, 'message-link');
    expect(w.externalOpens).toEqual([]);
    await press(page, 'Enter');
    await tabTo(page, 'link-dialog-open');
    await press(page, 'Enter');
    await expect.poll(() => w.externalOpens, { timeout: 15_000 }).toEqual([LINK]);
    await expectFocus(page, 'message-link');

    // The conversation menu.
    await tabTo(page, 'chat-menu', { backwards: true });
    await press(page, 'Enter');
    await expect.poll(() => focused(page)).toBe('chat-export-open');
    await expectAccessible(page, 'chat menu open');
    await press(page, 'Escape');
    await expectFocus(page, 'chat-menu');

    // Search and jump: the arrow keys enter the results, Enter opens the message.
    await tabTo(page, 'search-input', { backwards: true });
    await page.keyboard.type('without');
    await expect.poll(() => page.getByTestId('search-result').count(), { timeout: 15_000 }).toBe(1);
    await expectAccessible(page, 'search results');
    await press(page, 'ArrowDown');
    await expectFocus(page, 'search-result');
    await press(page, 'Enter');
    await expectFocus(page, 'message-row');
    expect(
      await page.evaluate(() => document.activeElement?.getAttribute('data-highlighted')),
    ).toBe('true');
    await tabTo(page, 'search-input', { backwards: true });
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('zzzz');
    await expect.poll(() => page.getByTestId('search-none').isVisible()).toBe(true);
    await expectAccessible(page, 'search, nothing found');
    await press(page, 'Escape');
    // Not searching: ArrowDown from the search field enters the conversation list.
    await press(page, 'ArrowDown');
    await expectFocus(page, 'conversation-item');
    await press(page, 'Enter');
    await expectFocus(page, 'chat-composer');

    // Settings, and back with Escape, then with Alt+Left: focus returns to where it was.
    await tabTo(page, 'settings-open', { backwards: true });
    await press(page, 'Enter');
    await expectFocus(page, 'settings-title');
    await expect.poll(() => page.getByTestId('settings-relay').isVisible()).toBe(true);
    await expectAccessible(page, 'settings');
    await press(page, 'Escape');
    await expectFocus(page, 'settings-open');
    expect(await page.getByTestId('chat-view').count()).toBe(1);
    await press(page, 'Enter');
    await expect.poll(() => page.getByTestId('settings-page').count()).toBe(1);
    await press(page, 'Alt+ArrowLeft');
    await expectFocus(page, 'settings-open');

    // Safety number: open, verify (focus moves to the note that replaces the button), leave.
    await tabTo(page, 'safety-number-open');
    await press(page, 'Enter');
    await expect.poll(() => focused(page)).toBe('h1#safety-title');
    await expect.poll(() => page.getByTestId('verify-button').isVisible()).toBe(true);
    await expectAccessible(page, 'safety number');
    await tabTo(page, 'verify-button');
    await press(page, 'Enter');
    await expectFocus(page, 'verified-badge');
    await expectAccessible(page, 'safety number verified');
    await press(page, 'Escape');
    await expectFocus(page, 'safety-number-open');
    await expect.poll(() => page.getByTestId('verified-badge').isVisible()).toBe(true);

    // The skip link moves focus to the main pane and stays on this screen (it used to route home).
    const hash = await page.evaluate(() => location.hash);
    await page.getByTestId('skip-link').focus(); // the first stop of a fresh Tab sequence
    await press(page, 'Enter');
    await expectFocus(page, 'main-pane');
    expect(await page.evaluate(() => location.hash)).toBe(hash);

    // Lock, a wrong passphrase (announced, focus kept in the field), then the right one.
    await tabTo(page, 'lock-button', { backwards: true });
    await press(page, 'Enter');
    await expectFocus(page, 'unlock-passphrase');
    await expectAccessible(page, 'unlock');
    await page.keyboard.type('not the passphrase');
    await press(page, 'Enter');
    await expect.poll(() => page.getByTestId('unlock-error').isVisible()).toBe(true);
    await expectFocus(page, 'unlock-passphrase');
    await expectAccessible(page, 'unlock, wrong passphrase');
    await page.keyboard.type(ALICE_PASS);
    await press(page, 'Enter');
    await expectFocus(page, 'home-title');
    await expectAccessible(page, 'home with a conversation');
    await screenshot(page, '11-keyboard-home');

    expect(w.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });

  it('in an 800×600 window and at 200% zoom nothing of the journey is out of reach', async () => {
    if (!alice) throw new Error('the keyboard journey did not run');
    const page = alice.page;
    // 200% zoom of a 1200×800 window lays out in 600×400 CSS pixels (two device pixels each).
    for (const [label, size] of [
      ['800x600', { width: 800, height: 600 }],
      ['zoom-200', { width: 600, height: 400 }],
    ] as const) {
      await page.setViewportSize(size);
      const narrow = size.width < 700;
      await page.getByTestId('home-title').waitFor({ state: narrow ? 'hidden' : 'visible' });
      await expectInViewport(page, [
        'search-input',
        'add-contact-open',
        'settings-open',
        'lock-button',
        'conversation-item',
      ]);
      await page.getByTestId('conversation-item').first().click();
      await expectInViewport(page, [
        'chat-title',
        'safety-number-open',
        'chat-menu',
        'chat-composer',
        'chat-send',
        ...(narrow ? ['pane-back'] : ['conversation-item']),
      ]);
      // One pane at a time in a narrow window: the list is hidden while a conversation is open.
      expect(await page.getByTestId('sidebar').isVisible()).toBe(!narrow);
      await expectAccessible(page, `chat at ${label}`);
      await screenshot(page, `12-chat-${label}`);
      await page.getByTestId('safety-number-open').click();
      await expectInViewport(page, ['safety-number-digits', 'verified-badge']);
      if (narrow) await page.getByTestId('pane-back').click();
      await page.getByTestId('settings-open').click();
      await expectInViewport(page, [
        'settings-relay',
        'settings-relay-save',
        'backup-mode-recovery',
        'backup-export',
      ]);
      await expectAccessible(page, `settings at ${label}`);
      await page.evaluate(() => (location.hash = '#/'));
      await page.getByTestId('conversation-item').first().waitFor();
    }
    expect(alice.problems).toEqual([]);
  });
});
