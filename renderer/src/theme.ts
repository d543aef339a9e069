// The theme is a class on <html>: `theme-light` or `theme-dark` forces one;
// neither means "system" and the stylesheet follows prefers-color-scheme.
import type { Settings } from '../../shared/ipc/contract.ts';

export function applyTheme(
  theme: Settings['theme'],
  root: HTMLElement = document.documentElement,
): void {
  root.classList.toggle('theme-light', theme === 'light');
  root.classList.toggle('theme-dark', theme === 'dark');
}
