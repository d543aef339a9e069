import type { Page } from 'playwright-core';
import { expect } from 'vitest';

// Keyboard-only steps: where focus is, and Tab until it reaches a control.

/** The data-testid (or tag#id) of the focused element, for assertions and messages. */
export function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    return el.getAttribute('data-testid') ?? `${el.tagName.toLowerCase()}#${el.id}`;
  });
}

/** Waits (generously: the machine is busy) until focus is on `testId`. */
export async function expectFocus(page: Page, testId: string): Promise<void> {
  await expect.poll(() => focused(page), { timeout: 15_000 }).toBe(testId);
}

/** Presses Tab (Shift+Tab with `backwards`) until `testId` has focus; fails after `max` presses. */
export async function tabTo(
  page: Page,
  testId: string,
  { max = 40, backwards = false }: { max?: number; backwards?: boolean } = {},
): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    const now = await focused(page);
    if (now === testId) return;
    seen.push(now);
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${testId}; focus went ${seen.join(' → ')}`);
}

/** Every element's box, after scrolling it into view, lies inside the viewport (nothing out of reach). */
export async function expectInViewport(page: Page, testIds: readonly string[]): Promise<void> {
  const viewport = page.viewportSize();
  if (!viewport) throw new Error('no viewport');
  const outside: string[] = [];
  for (const id of testIds) {
    const element = page.getByTestId(id).first();
    await element.scrollIntoViewIfNeeded({ timeout: 15_000 });
    const box = await element.boundingBox();
    if (
      !box ||
      box.x < 0 ||
      box.y < 0 ||
      box.x + box.width > viewport.width + 0.5 ||
      box.y + box.height > viewport.height + 0.5
    )
      outside.push(`${id} ${JSON.stringify(box)}`);
  }
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect({ outside, horizontalOverflow: overflow }).toEqual({ outside: [], horizontalOverflow: 0 });
}
