import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/profiles.ts';
import {
  type AppWindow,
  createProfile,
  readInvite,
  screenshot,
  useSuite,
} from './support/harness.ts';

// Two people use the app end to end: the built renderer in headless Chromium,
// each on a real core (SQLCipher profile, libsignal) in a worker thread, and a
// real relay process between them. Screenshots go to test-artifacts/.

const ALICE_PASS = 'correct horse battery staple';
const BOB_PASS = 'bob likes long passphrases';

const suite = useSuite();
const open = (dir: string) => suite.open(dir);
const close = (w: AppWindow) => suite.close(w);

const byTestId = (page: Page, id: string) => page.getByTestId(id);

async function sendMessage(page: Page, text: string): Promise<void> {
  const composer = byTestId(page, 'chat-composer');
  await composer.fill(text);
  await composer.press('Enter');
}

function messageRow(page: Page, text: string) {
  return byTestId(page, 'message-row').filter({ hasText: text });
}

describe('the desktop app in Chromium', () => {
  it('two people meet, talk, go offline, search, verify and lock', async () => {
    const aliceDir = join(tempDir(), 'alice');
    const bobDir = join(tempDir(), 'bob');
    const alice = await open(aliceDir);
    const bob = await open(bobDir);

    // First run: Alice creates her profile and gets her invite link.
    await expect.poll(() => byTestId(alice.page, 'welcome-name').isVisible()).toBe(true);
    await screenshot(alice.page, '01-welcome');
    await createProfile(alice.page, 'Alice', ALICE_PASS, suite.relay.url);
    const invite = await readInvite(alice.page);
    await screenshot(alice.page, '02-invite');

    // Bob creates his and adds Alice from her invite.
    await createProfile(bob.page, 'Bob', BOB_PASS, suite.relay.url);
    await byTestId(bob.page, 'invite-continue').click();
    await byTestId(bob.page, 'add-contact-open').click();
    await byTestId(bob.page, 'add-contact-invite').fill(invite);
    await byTestId(bob.page, 'add-contact-submit').click();
    await byTestId(bob.page, 'conversation-item').filter({ hasText: 'Alice' }).click();

    // Bob writes; Alice's list shows the conversation with an unread badge.
    await sendMessage(bob.page, 'Hi Alice, it is Bob');
    await byTestId(alice.page, 'invite-continue').click();
    const aliceItem = byTestId(alice.page, 'conversation-item').filter({
      hasText: 'Hi Alice, it is Bob',
    });
    await expect.poll(() => aliceItem.count(), { timeout: 90_000 }).toBe(1);
    await screenshot(alice.page, '03-conversation-list');
    await aliceItem.click();
    await expect.poll(() => messageRow(alice.page, 'Hi Alice, it is Bob').count()).toBe(1);

    // Alice replies with Enter (Shift+Enter makes a newline first); Bob sees it, and the status reaches delivered.
    const composer = byTestId(alice.page, 'chat-composer');
    await composer.fill('Hello Bob!');
    await composer.press('Shift+Enter');
    await composer.pressSequentially('Second line');
    expect(await composer.inputValue()).toBe('Hello Bob!\nSecond line');
    await composer.press('Enter');
    await expect
      .poll(() => messageRow(bob.page, 'Second line').count(), { timeout: 90_000 })
      .toBe(1);
    await expect
      .poll(() => messageRow(alice.page, 'Second line').getAttribute('data-status'), {
        timeout: 90_000,
      })
      .toBe('delivered');
    await expect
      .poll(() => messageRow(bob.page, 'Hi Alice, it is Bob').getAttribute('data-status'), {
        timeout: 90_000,
      })
      .toBe('delivered');
    await screenshot(alice.page, '04-chat');

    // Bob goes offline (his app quits); Alice writes three messages; Bob comes back and sees them.
    await close(bob);
    for (const text of ['While you were away 1', 'While you were away 2', 'While you were away 3'])
      await sendMessage(alice.page, text);
    await expect
      .poll(() => messageRow(alice.page, 'While you were away 3').getAttribute('data-status'), {
        timeout: 90_000,
      })
      .toBe('sent');
    const bobAgain = await open(bobDir);
    await byTestId(bobAgain.page, 'unlock-passphrase').fill(BOB_PASS);
    await byTestId(bobAgain.page, 'unlock-submit').click();
    await byTestId(bobAgain.page, 'conversation-item').filter({ hasText: 'Alice' }).click();
    for (const text of [
      'While you were away 1',
      'While you were away 2',
      'While you were away 3',
    ]) {
      await expect.poll(() => messageRow(bobAgain.page, text).count(), { timeout: 90_000 }).toBe(1);
    }

    // Search finds a message across conversations and jumps to it.
    await byTestId(bobAgain.page, 'search-input').fill('away 2');
    const hit = byTestId(bobAgain.page, 'search-result').filter({
      hasText: 'While you were away 2',
    });
    await expect.poll(() => hit.count(), { timeout: 10_000 }).toBe(1);
    await screenshot(bobAgain.page, '05-search');
    await hit.click();
    await expect
      .poll(() =>
        messageRow(bobAgain.page, 'While you were away 2').getAttribute('data-highlighted'),
      )
      .toBe('true');

    // Safety numbers: both sides show the same 60 digits; Bob marks Alice verified.
    await byTestId(bobAgain.page, 'safety-number-open').click();
    const bobDigits = (
      await byTestId(bobAgain.page, 'safety-number-digits').textContent()
    )?.replace(/\D/g, '');
    await byTestId(alice.page, 'safety-number-open').click();
    const aliceDigits = (await byTestId(alice.page, 'safety-number-digits').textContent())?.replace(
      /\D/g,
      '',
    );
    expect(bobDigits).toMatch(/^\d{60}$/);
    expect(bobDigits).toBe(aliceDigits);
    await screenshot(bobAgain.page, '06-safety-number');
    await byTestId(bobAgain.page, 'verify-button').click();
    await expect.poll(() => byTestId(bobAgain.page, 'verified-badge').isVisible()).toBe(true);

    // Lock, a wrong passphrase (clear feedback), then the right one.
    await byTestId(alice.page, 'lock-button').click();
    await expect.poll(() => byTestId(alice.page, 'unlock-passphrase').isVisible()).toBe(true);
    expect(await alice.page.getByText('Hello Bob!').count()).toBe(0); // nothing of the history stays on screen
    await byTestId(alice.page, 'unlock-passphrase').fill('not the passphrase');
    await byTestId(alice.page, 'unlock-submit').click();
    await expect.poll(() => byTestId(alice.page, 'unlock-error').isVisible()).toBe(true);
    await screenshot(alice.page, '07-unlock-wrong-passphrase');
    await byTestId(alice.page, 'unlock-passphrase').fill(ALICE_PASS);
    await byTestId(alice.page, 'unlock-submit').click();
    await expect.poll(() => byTestId(alice.page, 'conversation-item').count()).toBe(1);

    // Nothing of the history is kept by the web content itself: no web storage, no IndexedDB.
    const stored = await alice.page.evaluate(async () => ({
      local: localStorage.length,
      session: sessionStorage.length,
      databases: (await indexedDB.databases()).length,
    }));
    expect(stored).toEqual({ local: 0, session: 0, databases: 0 });

    // The strict CSP held: no violations, no page errors.
    expect(alice.problems).toEqual([]);
    expect(bobAgain.problems).toEqual([]);
  });
});
