import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { type Component, h, nextTick, ref } from 'vue';
import WelcomeView from '../../../renderer/src/views/WelcomeView.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useArrowKeys } from '../../../renderer/src/composables/useArrowKeys.ts';
import { focusScreenStart, goBack, installRouteFocus } from '../../../renderer/src/route-focus.ts';
import { describedBy } from '../../../renderer/src/form-errors.ts';
import { plugins, settle, setUp, testRouter, waitFor } from '../helpers.ts';
import { RouterView, createRouter, createWebHashHistory } from 'vue-router';

// The keyboard flow in happy-dom: where focus goes after a refused form, a
// screen change and a return; the arrow keys in a list. The whole journey in a
// real Chromium is tests/e2e/accessibility.test.ts.

let pinia: Pinia;
beforeEach(() => {
  ({ pinia } = setUp());
  document.body.innerHTML = '';
});

describe('a refused first-run form', () => {
  it('names the empty name, ties the message to the field and focuses it', async () => {
    await useAppStore().ensureLoaded();
    const r = testRouter([
      { path: '/', name: 'welcome', component: WelcomeView },
      { path: '/home', name: 'home', component: { template: '<p />' } },
      { path: '/restore', name: 'restore', component: { template: '<p />' } },
    ]);
    await r.push('/');
    const wrapper = mount(WelcomeView, {
      global: { plugins: plugins(pinia, r) },
      attachTo: document.body,
    });
    (wrapper.get('[data-testid="welcome-create"]').element as HTMLElement).focus();
    await wrapper.get('form').trigger('submit');
    await settle();
    const name = wrapper.get('[data-testid="welcome-name"]');
    expect(wrapper.get('[data-testid="welcome-name-error"]').text()).toBe('Enter your name.');
    expect(name.attributes('aria-invalid')).toBe('true');
    expect(name.attributes('aria-describedby')?.split(' ')).toEqual([
      'welcome-name-hint',
      'welcome-name-error',
    ]);
    expect(document.activeElement).toBe(name.element);
    wrapper.unmount();
  });

  it('describedBy keeps only the ids that apply', () => {
    expect(describedBy('hint', false, null, undefined, '')).toBe('hint');
    expect(describedBy(false)).toBeUndefined();
  });
});

describe('focus after a screen change', () => {
  const Screen = (title: string, start?: string) =>
    ({
      render: () =>
        h('main', [
          h('h1', { 'data-testid': `${title}-title` }, title),
          start ? h('button', { 'data-testid': start, 'data-focus-start': '' }, start) : null,
          h('button', { 'data-testid': `${title}-open-next` }, 'next'),
        ]),
    }) satisfies Component;

  it('lands on the screen start or its heading, and a return goes back to the opener', async () => {
    // Hash history, as the app: going back reads history.state.back, which memory history lacks.
    const r = createRouter({
      history: createWebHashHistory(),
      routes: [
        { path: '/', name: 'home', component: Screen('home') },
        { path: '/chat', name: 'chat', component: Screen('chat', 'composer') },
        { path: '/settings', name: 'settings', component: Screen('settings') },
      ],
    });
    installRouteFocus(r);
    const App: Component = { render: () => h(RouterView) };
    await r.push('/');
    const wrapper = mount(App, { global: { plugins: plugins(pinia, r) }, attachTo: document.body });
    await r.push('/chat');
    await settle();
    expect(document.activeElement?.getAttribute('data-testid')).toBe('composer');
    (document.querySelector('[data-testid="chat-open-next"]') as HTMLElement).focus();
    await r.push('/settings');
    await settle();
    // No start marked: the heading, made focusable.
    expect(document.activeElement?.getAttribute('data-testid')).toBe('settings-title');
    expect(document.activeElement?.getAttribute('tabindex')).toBe('-1');
    await goBack(r);
    await waitFor(() => r.currentRoute.value.name === 'chat', 'the way back');
    await settle();
    await nextTick();
    expect(document.activeElement?.getAttribute('data-testid')).toBe('chat-open-next');
    wrapper.unmount();
  });

  it('without a start or a heading, focus is left alone', () => {
    const button = document.createElement('button');
    document.body.append(button);
    button.focus();
    focusScreenStart();
    expect(document.activeElement).toBe(button);
  });
});

describe('arrow keys in a list', () => {
  it('move through the items, stop at the ends, and Home/End jump', () => {
    const list = document.createElement('ul');
    list.innerHTML =
      '<li><a href="#" class="item">a</a></li><li><a href="#" class="item">b</a></li><li><a href="#" class="item">c</a></li>';
    document.body.append(list);
    const onKey = useArrowKeys(ref(list), '.item');
    const items = [...list.querySelectorAll<HTMLElement>('.item')];
    const press = (key: string) => {
      const event = new KeyboardEvent('keydown', { key, cancelable: true });
      onKey(event);
      return event.defaultPrevented;
    };
    expect(press('ArrowDown')).toBe(true);
    expect(document.activeElement).toBe(items[0]);
    press('ArrowDown');
    press('ArrowDown');
    press('ArrowDown');
    expect(document.activeElement).toBe(items[2]);
    press('Home');
    expect(document.activeElement).toBe(items[0]);
    press('ArrowUp');
    expect(document.activeElement).toBe(items[0]);
    press('End');
    expect(document.activeElement).toBe(items[2]);
    // Other keys and modified arrows are left to the browser.
    expect(press('a')).toBe(false);
    const withAlt = new KeyboardEvent('keydown', {
      key: 'ArrowUp',
      altKey: true,
      cancelable: true,
    });
    onKey(withAlt);
    expect(withAlt.defaultPrevented).toBe(false);
    expect(document.activeElement).toBe(items[2]);
  });
});
