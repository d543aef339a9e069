import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AppState, EventPayload } from '../../../shared/ipc/contract.ts';
import type { ErrorCode } from '../../../shared/errors.ts';
import { call, errorCodeOf } from '../bridge.ts';
import { useMessagesStore } from './messages.ts';
import { resetSessionStores } from './session.ts';

/** Why the app locked: the user, the idle timer, or a restart of the core after a crash. */
type LockReason = EventPayload<'app:locked'>['reason'];

export interface CreateProfileInput {
  readonly displayName: string;
  readonly passphrase?: string;
  readonly useKeychain: boolean;
  readonly relay: string;
  /** The user confirmed an unencrypted ws:// relay on another computer. */
  readonly allowInsecureRelay?: boolean;
}

/** The app's phase (first run, locked, unlocked) and the profile lifecycle. */
export const useAppStore = defineStore('app', () => {
  const state = ref<AppState | null>(null);
  const busy = ref(false);
  /** Why the last unlock failed (shown as `errors.<code>`), cleared on the next attempt. */
  const unlockError = ref<ErrorCode | null>(null);
  /** Set when the core locked itself, so the unlock screen can say why. */
  const lockedReason = ref<LockReason | null>(null);
  /** True right after this window created the profile (the welcome screen then shows the invite). */
  const justCreated = ref(false);
  /** Set when even the app state could not be read (no core behind the bridge). */
  const loadError = ref<ErrorCode | null>(null);

  const phase = computed(() => state.value?.phase ?? null);
  const unlocked = computed(() => phase.value === 'unlocked');

  async function load(): Promise<AppState> {
    try {
      const next = await call('app:state', {});
      state.value = next;
      loadError.value = null;
      return next;
    } catch (error) {
      loadError.value = errorCodeOf(error);
      throw error;
    }
  }

  /** Loads the state once (the router guard awaits this before the first navigation). */
  async function ensureLoaded(): Promise<AppState> {
    return state.value ?? (await load());
  }

  async function create(input: CreateProfileInput): Promise<void> {
    busy.value = true;
    try {
      state.value = await call('profile:create', input);
      justCreated.value = true;
    } finally {
      busy.value = false;
    }
  }

  /** Unlocks with a passphrase (or the keychain when none is given); false with `unlockError` set on failure. */
  async function unlock(passphrase?: string): Promise<boolean> {
    busy.value = true;
    unlockError.value = null;
    try {
      state.value = await call('profile:unlock', passphrase === undefined ? {} : { passphrase });
      lockedReason.value = null;
      return state.value.phase === 'unlocked';
    } catch (error) {
      unlockError.value = errorCodeOf(error);
      return false;
    } finally {
      busy.value = false;
    }
  }

  /** Locks now: pending drafts are saved first, then every store forgets its data. */
  async function lock(): Promise<void> {
    try {
      await useMessagesStore().flushAllDrafts();
    } finally {
      resetSessionStores();
      justCreated.value = false;
      state.value = await call('profile:lock', { reason: 'user' });
      lockedReason.value = 'user';
    }
  }

  /** The core locked (idle timeout or another window): forget everything at once. */
  function handleLocked(reason: LockReason): void {
    resetSessionStores();
    justCreated.value = false;
    unlockError.value = null;
    lockedReason.value = reason;
    if (state.value) state.value = { ...state.value, phase: 'locked' };
  }

  return {
    state,
    busy,
    unlockError,
    lockedReason,
    justCreated,
    loadError,
    phase,
    unlocked,
    load,
    ensureLoaded,
    create,
    unlock,
    lock,
    handleLocked,
  };
});
