import { afterEach, beforeEach } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import type { Router } from 'vue-router';
import type { Pinia } from 'pinia';
import GroupView from '../../renderer/src/views/GroupView.vue';
import { useAppStore } from '../../renderer/src/stores/app.ts';
import { useContactsStore } from '../../renderer/src/stores/contacts.ts';
import { groupRouteParam } from '../../renderer/src/group-route.ts';
import type { GroupSummary } from '../../shared/ipc/groups.ts';
import type { FakeBridge } from './fake-bridge.ts';
import { plugins, setUp, stubHistoryLayout, testRouter, waitFor } from './helpers.ts';

// What the group screens' component tests share: an unlocked fake bridge
// with contacts (conversation ids 1, 2, … in order), a router with the routes
// the screens link to, the history layout stub, and mounting that cleans up.

const stub = { template: '<div />' };

/** The per-test state `useGroupScreens` sets up. */
export interface GroupScreens {
  readonly fake: FakeBridge;
  readonly router: Router;
  readonly mountView: <T>(component: T, props?: Record<string, unknown>) => VueWrapper;
  /** Mounts the group view on `group` and waits for its title. */
  readonly openGroup: (group: GroupSummary) => Promise<VueWrapper>;
}

/** Registers the hooks that set up each test with these contacts; read the state through the result. */
export function useGroupScreens(contacts: readonly string[]): GroupScreens {
  let fake: FakeBridge | undefined;
  let pinia: Pinia | undefined;
  let router: Router | undefined;
  let restoreLayout: () => void = () => undefined;
  const mounted: VueWrapper[] = [];

  beforeEach(async () => {
    for (const w of mounted.splice(0)) w.unmount();
    document.body.innerHTML = '';
    ({ fake, pinia } = setUp());
    // The group history is virtualized: it renders rows only in a viewport with a size.
    restoreLayout = stubHistoryLayout();
    fake.state = { ...fake.state, phase: 'unlocked' };
    contacts.forEach((displayName, i) => fake?.addConversation({ id: i + 1, displayName }));
    await useAppStore().ensureLoaded();
    await useContactsStore().load();
    router = testRouter([
      { path: '/', name: 'home', component: stub },
      { path: '/groups/new', name: 'new-group', component: stub },
      { path: '/group/:groupId', name: 'group', component: stub },
      { path: '/chat/:id', name: 'chat', component: stub },
      { path: '/chat/:id/safety-number', name: 'safety-number', component: stub },
      {
        path: '/group/:groupId/member/:accountId/safety-number',
        name: 'group-member-safety',
        component: stub,
      },
    ]);
  });
  afterEach(() => restoreLayout());

  const screens: GroupScreens = {
    get fake() {
      if (!fake) throw new Error('no test is running');
      return fake;
    },
    get router() {
      if (!router) throw new Error('no test is running');
      return router;
    },
    mountView: (component, props = {}) => {
      const wrapper = mount(component as never, {
        props: props as never,
        global: { plugins: plugins(pinia!, router) },
        attachTo: document.body,
      });
      mounted.push(wrapper);
      return wrapper;
    },
    openGroup: async (group) => {
      const wrapper = screens.mountView(GroupView, { groupId: groupRouteParam(group.groupId) });
      await waitFor(() => wrapper.find('[data-testid="group-title"]').text() !== '', 'the group');
      return wrapper;
    },
  };
  return screens;
}
