import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

// axe-core (WCAG 2.1 A and AA rules) in the real Chromium. The page's CSP
// allows no injected <script>; Playwright's evaluate goes through the DevTools
// protocol (Runtime.evaluate), which the CSP does not govern, so the library's
// source is evaluated that way, once per page.

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
export const THEMES = ['theme-light', 'theme-dark'] as const;

interface Violation {
  id: string;
  impact: string | null;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** Runs axe on the page as it is now, in the given forced theme; returns a readable list of violations. */
async function violationsIn(page: Page, theme: string): Promise<string[]> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(
    async ({ theme, tags }) => {
      const root = document.documentElement;
      const before = root.className;
      root.className = theme;
      try {
        const axe = (window as unknown as { axe: { run: (...a: unknown[]) => Promise<unknown> } })
          .axe;
        const result = (await axe.run(document, {
          runOnly: { type: 'tag', values: tags },
          resultTypes: ['violations'],
        })) as { violations: unknown[] };
        return result.violations;
      } finally {
        root.className = before;
      }
    },
    { theme, tags: WCAG_21_AA },
  );
  return (violations as Violation[]).map(
    (v) =>
      `${v.id} (${v.impact ?? '?'}): ${v.nodes
        .slice(0, 3)
        .map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`)
        .join(' | ')}`,
  );
}

/**
 * Asserts zero WCAG 2.1 A/AA violations on the current screen state, in the
 * light and the dark theme; `state` names the state in the failure message.
 */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const found: Record<string, string[]> = {};
  for (const theme of THEMES) {
    const violations = await violationsIn(page, theme);
    if (violations.length > 0) found[`${state} / ${theme}`] = violations;
  }
  expect(found).toEqual({});
}
