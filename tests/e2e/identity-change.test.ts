import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/profiles.ts';
import { addFromInvite, firstRun } from './support/conversation.ts';
import { screenshot, useSuite } from './support/harness.ts';
import { expectAccessible } from './support/axe.ts';
import { expectFocus, expectInViewport } from './support/keyboard.ts';

// A contact resets their identity: Bob uses Settings → Security → Reset identity,
// his core signs a move notice with the old key and sends it to Alice over the
// real relay; Alice's conversation shows the banner and its composer is blocked
// until she accepts the new safety number, after which they talk again. The
// banner leads to comparing safety numbers; accepting is on that screen. Both
// states are checked by axe, and at 200% zoom (600×400 CSS pixels) both
// actions stay inside the window.

const suite = useSuite();
const BOB_PASS = 'bob has a long passphrase too';

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-composer').fill(text);
  await page.getByTestId('chat-composer').press('Enter');
}

describe('a contact who moved to a new identity, in the app', () => {
  it('flags the conversation, blocks sending, and accepting the move unblocks it', async () => {
    const alice = await suite.open(join(tempDir(), 'alice'));
    const bob = await suite.open(join(tempDir(), 'bob'));
    const aliceInvite = await firstRun(
      alice.page,
      'Alice',
      'alice has a long passphrase',
      suite.relay.url,
    );
    const bobInvite = await firstRun(bob.page, 'Bob', BOB_PASS, suite.relay.url);
    await addFromInvite(alice.page, bobInvite);
    await addFromInvite(bob.page, aliceInvite);

    const item = alice.page.getByTestId('conversation-item').filter({ hasText: 'Bob' });
    await item.click();
    await expect.poll(() => alice.page.getByTestId('chat-composer').isEnabled()).toBe(true);
    expect(await alice.page.getByTestId('identity-banner').count()).toBe(0);

    // Bob resets his identity from Settings (warning, then his passphrase).
    await bob.page.getByTestId('settings-open').click();
    await bob.page.getByTestId('identity-reset-start').click();
    await bob.page.getByTestId('identity-reset-passphrase').fill(BOB_PASS);
    await bob.page.getByTestId('identity-reset-confirm').click();
    await expect
      .poll(() => bob.page.getByTestId('identity-reset-done').isVisible(), { timeout: 90_000 })
      .toBe(true);

    // The signed notice reaches Alice: banner, marker, composer blocked.
    await expect
      .poll(() => alice.page.getByTestId('identity-banner').isVisible(), { timeout: 90_000 })
      .toBe(true);
    expect(await item.getByTestId('identity-marker').count()).toBe(1);
    expect(await alice.page.getByTestId('composer-blocked').isVisible()).toBe(true);
    expect(await alice.page.getByTestId('chat-composer').isDisabled()).toBe(true);
    await screenshot(alice.page, '10-identity-changed');
    await expectAccessible(alice.page, 'identity changed banner');
    // Comparing is the one (primary) action of the banner; there is no accept there.
    expect(
      await alice.page.getByTestId('identity-banner').getByTestId('accept-identity').count(),
    ).toBe(0);

    await alice.page.setViewportSize({ width: 600, height: 400 });
    await expectInViewport(alice.page, ['identity-review']);
    await alice.page.getByTestId('identity-review').click();
    await expect.poll(() => alice.page.getByTestId('safety-changed').isVisible()).toBe(true);
    await expectInViewport(alice.page, ['safety-number-digits', 'accept-identity']);
    await expectAccessible(alice.page, 'safety number after an identity change');
    await alice.page.setViewportSize({ width: 1200, height: 800 });
    await screenshot(alice.page, '10b-identity-compare');
    await alice.page.getByTestId('accept-identity').click();
    // Back in the conversation, ready to write.
    await expectFocus(alice.page, 'chat-composer');
    await expect.poll(() => alice.page.getByTestId('identity-banner').count()).toBe(0);
    expect(await alice.page.getByTestId('chat-composer').isEnabled()).toBe(true);
    expect(await item.getByTestId('identity-marker').count()).toBe(0);

    // The conversation now reaches Bob's new account.
    await send(alice.page, 'welcome back, Bob');
    await bob.page
      .getByTestId('conversation-item')
      .filter({ hasText: 'welcome back, Bob' })
      .click();
    await expect
      .poll(
        () => bob.page.getByTestId('message-row').filter({ hasText: 'welcome back, Bob' }).count(),
        { timeout: 90_000 },
      )
      .toBe(1);
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });
});
