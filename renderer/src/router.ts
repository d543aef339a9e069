// Hash history: the app is served from app://sotto/index.html, and a hash URL
// never asks the protocol handler for another path.
import { createRouter, createWebHashHistory, type RouteLocationRaw, type Router } from 'vue-router';
import type { Pinia } from 'pinia';
import { useAppStore } from './stores/app.ts';
import WelcomeView from './views/WelcomeView.vue';
import RestoreView from './views/RestoreView.vue';
import UnlockView from './views/UnlockView.vue';
import MainLayout from './views/MainLayout.vue';
import HomeView from './views/HomeView.vue';
import ChatView from './views/ChatView.vue';
import SafetyNumberView from './views/SafetyNumberView.vue';
import GroupMemberSafetyView from './views/GroupMemberSafetyView.vue';
import AddContactView from './views/AddContactView.vue';
import SettingsView from './views/SettingsView.vue';
import GroupView from './views/GroupView.vue';
import NewGroupView from './views/NewGroupView.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** The app phase a route belongs to; the guard sends other phases elsewhere. */
    phase?: 'no-profile' | 'locked' | 'unlocked';
  }
}

const HOME_BY_PHASE = {
  'no-profile': { name: 'welcome' },
  locked: { name: 'unlock' },
  unlocked: { name: 'home' },
} as const satisfies Record<string, RouteLocationRaw>;

export function createAppRouter(pinia: Pinia): Router {
  const router = createRouter({
    history: createWebHashHistory(),
    routes: [
      { path: '/welcome', name: 'welcome', component: WelcomeView, meta: { phase: 'no-profile' } },
      // First run from a backup instead of a new profile.
      { path: '/restore', name: 'restore', component: RestoreView, meta: { phase: 'no-profile' } },
      { path: '/unlock', name: 'unlock', component: UnlockView, meta: { phase: 'locked' } },
      {
        path: '/',
        component: MainLayout,
        meta: { phase: 'unlocked' },
        children: [
          { path: '', name: 'home', component: HomeView },
          { path: 'chat/:id(\\d+)', name: 'chat', component: ChatView, props: true },
          {
            path: 'chat/:id(\\d+)/safety-number',
            name: 'safety-number',
            component: SafetyNumberView,
            props: true,
          },
          { path: 'contacts/add', name: 'add-contact', component: AddContactView },
          // A group id in the URL-safe base64 alphabet (group-route.ts).
          {
            path: 'group/:groupId([A-Za-z0-9_-]{43}=)',
            name: 'group',
            component: GroupView,
            props: true,
          },
          // A member who is not a contact: account ids are UUID-shaped.
          {
            path: 'group/:groupId([A-Za-z0-9_-]{43}=)/member/:accountId([0-9a-f-]{36})/safety-number',
            name: 'group-member-safety',
            component: GroupMemberSafetyView,
            props: true,
          },
          { path: 'groups/new', name: 'new-group', component: NewGroupView },
          // Sections (relay, security, appearance, …) are parts of one page; a
          // future Backup section is added there, not as a child route.
          { path: 'settings', name: 'settings', component: SettingsView },
        ],
      },
      { path: '/:unknown(.*)*', redirect: '/' },
    ],
  });

  router.beforeEach(async (to) => {
    const app = useAppStore(pinia);
    let state;
    try {
      state = await app.ensureLoaded();
    } catch {
      // App.vue shows app.loadError; there is no screen to go to.
      return false;
    }
    const wanted = to.meta.phase;
    // The welcome screen stays up after creating a profile, to show the invite.
    if (to.name === 'welcome' && state.phase === 'unlocked' && app.justCreated) return true;
    if (wanted !== state.phase) return HOME_BY_PHASE[state.phase];
    return true;
  });

  return router;
}
