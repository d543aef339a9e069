import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/profiles.ts';
import { useSuite } from './support/harness.ts';

// The stylesheet's themes in a real Chromium (happy-dom computes no styles):
// no class follows the system's color scheme, `theme-light` / `theme-dark`
// (set by renderer/src/theme.ts from the settings) force one.

const suite = useSuite();

const LIGHT_BG = 'rgb(246, 247, 249)';
const DARK_BG = 'rgb(18, 20, 23)';

describe('themes', () => {
  it('follow the system unless light or dark is chosen', async () => {
    const { page } = await suite.open(join(tempDir(), 'profile'));
    const background = (themeClass: string) =>
      page.evaluate((c) => {
        document.documentElement.className = c;
        return getComputedStyle(document.body).backgroundColor;
      }, themeClass);
    const seen: Record<string, string> = {};
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const themeClass of ['', 'theme-light', 'theme-dark'])
        seen[`${scheme} ${themeClass || 'system'}`] = await background(themeClass);
    }
    expect(seen).toEqual({
      'light system': LIGHT_BG,
      'light theme-light': LIGHT_BG,
      'light theme-dark': DARK_BG,
      'dark system': DARK_BG,
      'dark theme-light': LIGHT_BG,
      'dark theme-dark': DARK_BG,
    });
  });
});
