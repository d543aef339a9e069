// The application menu. Electron's default menu has View → Toggle Developer
// Tools and Reload (with their shortcuts): a packaged build must not offer
// either, since DevTools would let anyone at the unlocked machine read and
// drive the renderer outside the UI. macOS needs a menu for Quit and the
// editing shortcuts (copy, paste in text fields); other systems need none.
import { Menu, type MenuItemConstructorOptions } from 'electron';

/** Roles a packaged build's menu may use: none opens DevTools or reloads the page. */
export const PRODUCTION_MENU_ROLES = ['appMenu', 'editMenu', 'windowMenu'] as const;

/**
 * The menu template for a build, or null for no menu at all. An unpackaged
 * (development) build keeps Electron's default menu, DevTools included.
 */
export function applicationMenuTemplate(
  platform: NodeJS.Platform,
  packaged: boolean,
): MenuItemConstructorOptions[] | null | 'default' {
  if (!packaged) return 'default';
  if (platform !== 'darwin') return null;
  return PRODUCTION_MENU_ROLES.map((role) => ({ role }));
}

/** Sets the application menu for this build (call once the app is ready). */
export function installApplicationMenu(platform: NodeJS.Platform, packaged: boolean): void {
  const template = applicationMenuTemplate(platform, packaged);
  if (template === 'default') return;
  Menu.setApplicationMenu(template === null ? null : Menu.buildFromTemplate(template));
}
