import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleLock } from '../../../electron/main/idle-lock.ts';
import {
  LOCKED_NOTIFICATION,
  notificationForMessage,
  notificationForUnread,
} from '../../../electron/main/notifications.ts';
import { profileDirFromArgs, userDataForProfile } from '../../../electron/main/profile-dir.ts';
import { ShellState } from '../../../electron/main/shell-state.ts';
import { incomingMessage as incoming, openNotifications as open } from './notification-fixtures.ts';

// Main's OS-integration decisions, pure (no Electron involved).

describe('notifications', () => {
  it('show sender and text only while unlocked', () => {
    expect(notificationForMessage(incoming, open)).toEqual({
      title: 'Bob',
      body: 'meet at noon',
      conversationId: 7,
    });
    expect(notificationForMessage(incoming, { ...open, unlocked: false })).toEqual(
      LOCKED_NOTIFICATION,
    );
    expect(JSON.stringify(LOCKED_NOTIFICATION)).not.toMatch(/Bob|noon/);
  });

  it('stay quiet for own messages, a focused window, or when turned off', () => {
    expect(notificationForMessage({ ...incoming, outgoing: true }, open)).toBeUndefined();
    expect(notificationForMessage(incoming, { ...open, focused: true })).toBeUndefined();
    expect(notificationForMessage(incoming, { ...open, enabled: false })).toBeUndefined();
  });

  it("show only what notificationContent allows: 'name' (the default) hides the text, 'nothing' the name too", () => {
    expect(notificationForMessage(incoming, { ...open, content: 'name-and-text' })).toEqual({
      title: 'Bob',
      body: 'meet at noon',
      conversationId: 7,
    });
    const nameOnly = notificationForMessage(incoming, { ...open, content: 'name' });
    expect(nameOnly).toEqual({ title: 'Bob', body: 'New message', conversationId: 7 });
    expect(JSON.stringify(nameOnly)).not.toContain('noon');
    const nothing = notificationForMessage(incoming, { ...open, content: 'nothing' });
    expect(nothing).toEqual({ title: 'Sotto', body: 'New message', conversationId: 7 });
    expect(JSON.stringify(nothing)).not.toMatch(/Bob|noon/);
    // A sender without a name is never shown by account id either.
    expect(
      JSON.stringify(
        notificationForMessage({ ...incoming, senderName: null }, { ...open, content: 'name' }),
      ),
    ).not.toContain('"b"');
    // Locked: nothing but "New message", whatever the setting.
    for (const content of ['name-and-text', 'name', 'nothing'] as const) {
      expect(notificationForMessage(incoming, { ...open, content, unlocked: false })).toEqual(
        LOCKED_NOTIFICATION,
      );
    }
  });

  it("never let a hostile contact's name fake a second line or reorder the title", () => {
    for (const senderName of [
      'Bank\nYour code is 1234',
      'Eve\u202eknaB',
      'Mal\u0000lory',
      'x\u2028y',
      'a\u001b[31mb',
    ]) {
      const shown = notificationForMessage(
        { ...incoming, senderName },
        { ...open, content: 'name' },
      )!;
      expect(shown.title).not.toMatch(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
    }
    expect(
      notificationForMessage({ ...incoming, senderName: 'Bank\nYour code' }, open)!.title,
    ).toBe('Bank Your code');
    expect(
      notificationForMessage({ ...incoming, senderName: '\n\t' }, { ...open, content: 'name' })!
        .title,
    ).toBe('Sotto');
    expect(
      notificationForMessage({ ...incoming, senderName: 'n'.repeat(5000) }, open)!.title.length,
    ).toBeLessThanOrEqual(128);
  });

  it('truncate long text', () => {
    const body = notificationForMessage({ ...incoming, body: 'x'.repeat(5000) }, open)!.body;
    expect(body.length).toBeLessThanOrEqual(200);
  });

  it('while locked, announce a rising unread count without content', () => {
    const locked = { ...open, unlocked: false };
    expect(notificationForUnread(3, 2, locked)).toEqual(LOCKED_NOTIFICATION);
    expect(notificationForUnread(2, 3, locked)).toBeUndefined();
    expect(notificationForUnread(3, undefined, locked)).toBeUndefined(); // first count after start
    expect(notificationForUnread(3, 2, open)).toBeUndefined(); // unlocked: message:new does it
  });
});

describe('idle lock', () => {
  afterEach(() => vi.useRealTimers());

  it('locks after the auto-lock timeout of system idle time, polled', () => {
    vi.useFakeTimers();
    const state = { unlocked: true, autoLockMinutes: 5 };
    let idle = 0;
    const lock = vi.fn();
    const idleLock = new IdleLock({ state, idleSeconds: () => idle, lock, intervalMs: 1000 });
    idleLock.start();
    idle = 299;
    vi.advanceTimersByTime(1000);
    expect(lock).not.toHaveBeenCalled();
    idle = 300;
    vi.advanceTimersByTime(1000);
    expect(lock).toHaveBeenCalledTimes(1);
    idleLock.stop();
    vi.advanceTimersByTime(5000);
    expect(lock).toHaveBeenCalledTimes(1);
  });

  it('never idle-locks when auto-lock is off or already locked', () => {
    const lock = vi.fn();
    new IdleLock({
      state: { unlocked: true, autoLockMinutes: 0 },
      idleSeconds: () => 1e9,
      lock,
    }).check();
    new IdleLock({
      state: { unlocked: false, autoLockMinutes: 1 },
      idleSeconds: () => 1e9,
      lock,
    }).check();
    new IdleLock({
      state: { unlocked: false, autoLockMinutes: 0 },
      idleSeconds: () => 0,
      lock,
    }).screenLocked();
    expect(lock).not.toHaveBeenCalled();
  });

  it('locks when the OS locks the session, even with auto-lock off', () => {
    const lock = vi.fn();
    new IdleLock({
      state: { unlocked: true, autoLockMinutes: 0 },
      idleSeconds: () => 0,
      lock,
    }).screenLocked();
    expect(lock).toHaveBeenCalledTimes(1);
  });
});

describe('shell state', () => {
  it('learns phase, settings and unread from results and events', () => {
    const changes: unknown[] = [];
    const state = new ShellState({
      phase: (p) => changes.push(p),
      unread: (n, prev) => changes.push([n, prev]),
    });
    state.observeCall('profile:unlock', { ok: true, value: { phase: 'unlocked' } });
    state.observeCall('settings:set', {
      ok: true,
      value: { autoLockMinutes: 10, notifications: false },
    });
    state.observeCall('profile:unlock', { ok: false, code: 'WRONG_PASSPHRASE' });
    state.observeEvent('sync:status', { unread: 2 });
    state.observeCall('sync:status', { ok: true, value: { unread: 2 } });
    state.observeEvent('app:locked', { reason: 'user' });
    expect(changes).toEqual(['unlocked', [2, undefined], 'locked']);
    expect(state).toMatchObject({
      autoLockMinutes: 10,
      notifications: false,
      unread: 2,
      unlocked: false,
    });
  });

  it('shows nothing in notifications until the settings are known, then what they say', () => {
    const state = new ShellState();
    expect(state.notificationContent).toBe('nothing');
    state.observeCall('settings:get', {
      ok: true,
      value: { autoLockMinutes: 1, notifications: true, notificationContent: 'name-and-text' },
    });
    expect(state.notificationContent).toBe('name-and-text');
    state.observeCall('settings:set', {
      ok: true,
      value: { autoLockMinutes: 1, notifications: true, notificationContent: 'name' },
    });
    expect(state.notificationContent).toBe('name');
  });

  it('learns that a first-run restore opened the profile (so auto-lock applies to it)', () => {
    const phases: unknown[] = [];
    const state = new ShellState({ phase: (p) => phases.push(p) });
    state.observeCall('app:state', { ok: true, value: { phase: 'no-profile' } });
    state.observeCall('backup:restore', { ok: false, code: 'BACKUP_TAMPERED' });
    expect(state.unlocked).toBe(false);
    state.observeCall('backup:restore', {
      ok: true,
      value: { state: { phase: 'unlocked' }, added: 3, summary: {} },
    });
    expect(state.unlocked).toBe(true);
    state.observeCall('profile:reset-identity', { ok: true, value: { phase: 'locked' } });
    expect(phases).toEqual(['unlocked', 'locked']); // 'no-profile' is where it starts
  });
});

describe('profile directory', () => {
  it('comes from --profile, else the default, always absolute', () => {
    expect(profileDirFromArgs(['electron', '.', '--profile', '/p/alice'], '/d')).toBe('/p/alice');
    expect(profileDirFromArgs(['app', '--profile=/p/bob'], '/d')).toBe('/p/bob');
    expect(profileDirFromArgs(['app', '--profile'], '/d')).toBe('/d');
    expect(profileDirFromArgs(['app', 'rel'], 'rel/default')).toMatch(/^\/.*rel\/default$/);
  });

  it('gets its own userData folder, stable and distinct per profile', () => {
    const a = userDataForProfile('/u', '/p/alice');
    expect(a).toBe(userDataForProfile('/u', '/p/alice/'));
    expect(a).not.toBe(userDataForProfile('/u', '/p/bob'));
    expect(a.startsWith('/u/profiles/')).toBe(true);
  });
});
