// Where keyboard focus goes when the screen changes. Without this, a route
// change removes the focused element and focus falls to <body>: a keyboard or
// screen-reader user starts over from the top of the window each time.
import { nextTick } from 'vue';
import type { Router } from 'vue-router';

/**
 * Elements a screen marks as its starting point (`data-focus-start`), e.g. the
 * composer of a conversation; otherwise the screen's heading is focused.
 */
const START = '[data-focus-start]:not([disabled])';

/** Focuses the current screen's starting point, else its first heading (made focusable). */
export function focusScreenStart(root: ParentNode = document): void {
  const start = root.querySelector<HTMLElement>(START);
  if (start) {
    start.focus();
    return;
  }
  const heading = root.querySelector<HTMLElement>('main h1, h1');
  if (!heading) return;
  if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
  heading.focus();
}

// Set by goBack(): the next navigation returns to the control that opened the
// screen being left. Kept as a selector: the screen returned to is rendered anew.
let returning = false;
const openers = new Map<string, string>();

/** A selector that finds `element` again after its screen is re-rendered, if it has a test id. */
function selectorFor(element: HTMLElement): string | null {
  const testId = element.dataset['testid'];
  if (!testId) return element.id ? `#${CSS.escape(element.id)}` : null;
  const keys = ['conversationId', 'messageId', 'groupId'] as const;
  return keys.reduce(
    (selector, key) => {
      const value = element.dataset[key];
      const attribute = `data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      return value === undefined ? selector : `${selector}[${attribute}="${CSS.escape(value)}"]`;
    },
    `[data-testid="${CSS.escape(testId)}"]`,
  );
}

/** Leaves the current screen for the previous one (Escape, Alt+Left), or home when there is none. */
export async function goBack(router: Router): Promise<void> {
  returning = true;
  // vue-router keeps the previous location in history.state.back (null on the first screen).
  const state: unknown = window.history.state;
  const back = typeof state === 'object' && state !== null && 'back' in state ? state.back : null;
  if (typeof back === 'string') router.back();
  else await router.push({ name: 'home' });
}

/** Moves focus after every in-app navigation; the first screen of a window focuses itself. */
export function installRouteFocus(router: Router): void {
  router.beforeEach((_to, from) => {
    const active = document.activeElement;
    const selector = active instanceof HTMLElement ? selectorFor(active) : null;
    if (from.matched.length > 0 && selector) openers.set(from.fullPath, selector);
    else openers.delete(from.fullPath);
  });
  router.afterEach(async (to, from, failure) => {
    const wasReturning = returning;
    returning = false;
    if (failure || from.matched.length === 0) return;
    // A search hit focuses the message it jumps to (MessageList).
    if (to.name === 'chat' && typeof to.query['message'] === 'string') return;
    await nextTick();
    const selector = openers.get(to.fullPath);
    const opener = selector ? document.querySelector<HTMLElement>(selector) : null;
    if (wasReturning && opener) opener.focus();
    else focusScreenStart();
  });
}
