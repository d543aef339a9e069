import { mount, type VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import type { Router } from 'vue-router';
import SettingsView from '../../renderer/src/views/SettingsView.vue';
import { useAppStore } from '../../renderer/src/stores/app.ts';
import { useSettingsStore } from '../../renderer/src/stores/settings.ts';
import { plugins, settle, setUp, type TestContext, testRouter } from './helpers.ts';

// What the Settings component tests share: an unlocked fake bridge with the
// app and settings stores loaded, and Settings mounted on a router that has
// the routes it may leave for.

const stub = { template: '<div />' };

/** A fresh fake bridge in the unlocked phase, with the app and settings stores loaded. */
export async function setUpUnlockedSettings(): Promise<TestContext> {
  const context = setUp();
  context.fake.state = { ...context.fake.state, phase: 'unlocked' };
  await useAppStore().ensureLoaded();
  await useSettingsStore().load();
  return context;
}

/** Mounts Settings at '/' (the unlock route reachable) and lets it load. */
export async function mountSettings(
  pinia: Pinia,
): Promise<{ wrapper: VueWrapper; router: Router }> {
  const router = testRouter([
    { path: '/', name: 'home', component: stub },
    { path: '/unlock', name: 'unlock', component: stub },
  ]);
  await router.push('/');
  const wrapper = mount(SettingsView, { global: { plugins: plugins(pinia, router) } });
  await settle();
  return { wrapper, router };
}
