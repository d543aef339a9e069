// What main needs to know about the core (lock phase, notification and
// auto-lock settings, unread count), learnt from call results and push events
// rather than asked for: main stays a broker, not a second source of truth.
import type {
  AppState,
  EventName,
  MethodName,
  MethodOutput,
  Result,
  Settings,
  SyncStatus,
} from '../../shared/ipc/contract.ts';

export type Phase = AppState['phase'];

export interface ShellStateListener {
  phase?(phase: Phase): void;
  /** The unread total changed (`previous` is undefined the first time it is learnt). */
  unread?(unread: number, previous: number | undefined): void;
}

/** Methods whose result is the AppState. */
const APP_STATE_METHODS: ReadonlySet<MethodName> = new Set([
  'app:state',
  'profile:create',
  'profile:unlock',
  'profile:lock',
  'profile:reset-identity',
]);
const SETTINGS_METHODS: ReadonlySet<MethodName> = new Set(['settings:get', 'settings:set']);

export class ShellState {
  phase: Phase = 'no-profile';
  /** Minutes of system idle time before main locks the app; 0 = never. */
  autoLockMinutes = 0;
  notifications = true;
  /**
   * What notifications may show. 'nothing' until the settings are read: a
   * message that arrives right after unlocking must not show more than the
   * user allowed.
   */
  notificationContent: Settings['notificationContent'] = 'nothing';
  unread: number | undefined;
  readonly #listener: ShellStateListener;

  constructor(listener: ShellStateListener = {}) {
    this.#listener = listener;
  }

  get unlocked(): boolean {
    return this.phase === 'unlocked';
  }

  /** Learns from a completed call (the renderer's, through IPC, or main's own). */
  observeCall(method: MethodName, result: Result<unknown>): void {
    if (!result.ok) return;
    if (APP_STATE_METHODS.has(method)) this.#setPhase((result.value as AppState).phase);
    // A restore at first run opens the new profile: main must know, or idle,
    // OS lock and suspend would never lock it (issue 11).
    else if (method === 'backup:restore')
      this.#setPhase((result.value as MethodOutput<'backup:restore'>).state.phase);
    else if (SETTINGS_METHODS.has(method)) this.#setSettings(result.value as Settings);
    else if (method === 'sync:status') this.#setUnread((result.value as SyncStatus).unread);
  }

  /** Learns from a push event. */
  observeEvent(name: EventName, payload: unknown): void {
    if (name === 'app:locked') this.#setPhase('locked');
    else if (name === 'sync:status') this.#setUnread((payload as SyncStatus).unread);
  }

  #setPhase(phase: Phase): void {
    if (phase === this.phase) return;
    this.phase = phase;
    this.#listener.phase?.(phase);
  }

  #setSettings(settings: Settings): void {
    this.autoLockMinutes = settings.autoLockMinutes;
    this.notifications = settings.notifications;
    this.notificationContent = settings.notificationContent;
  }

  #setUnread(unread: number): void {
    if (unread === this.unread) return;
    const previous = this.unread;
    this.unread = unread;
    this.#listener.unread?.(unread, previous);
  }
}
