import { beforeEach, describe, expect, it } from 'vitest';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useBackupStore } from '../../../renderer/src/stores/backup.ts';
import { useNoticesStore } from '../../../renderer/src/stores/notices.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { settle, setUp } from '../helpers.ts';

let fake: FakeBridge;

beforeEach(async () => {
  ({ fake } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  await useAppStore().ensureLoaded();
});

describe('the backup store', () => {
  it('follows backup:progress of the operation it runs, and clears it at the end', async () => {
    const disconnect = connectBridgeEvents();
    const backup = useBackupStore();
    fake.holdBackups = true;
    const done = backup.exportBackup({ passphrase: 'a long enough passphrase' });
    await settle();
    expect(backup.running).toBe('export');
    expect(backup.progress).toEqual({ phase: 'export', done: 0, total: 4 });

    // Another window's operation is not ours.
    fake.emit('backup:progress', { operation: 'verify', phase: 'verify', done: 3, total: 9 });
    expect(backup.progress).toEqual({ phase: 'export', done: 0, total: 4 });
    fake.emit('backup:progress', { operation: 'export', phase: 'export', done: 2, total: 4 });
    expect(backup.progress).toEqual({ phase: 'export', done: 2, total: 4 });

    fake.finishBackup();
    expect(await done).toBe(true);
    expect(backup.running).toBeNull();
    expect(backup.progress).toBeNull();
    expect(backup.exported).toEqual({ messages: 0, bytes: 4096 });
    expect(backup.recoveryKey).toBeNull();
    disconnect();
  });

  it('runs one operation at a time', async () => {
    const backup = useBackupStore();
    fake.holdBackups = true;
    const first = backup.verify('backup passphrase');
    await settle();
    expect(await backup.exportBackup({ recoveryKey: true })).toBe(false);
    expect(fake.callsOf('backup:export')).toEqual([]);
    fake.finishBackup();
    expect(await first).toBe(true);
  });

  it('Cancel ends the operation quietly: no failure, no notice, nothing running', async () => {
    const backup = useBackupStore();
    fake.holdBackups = true;
    const done = backup.restore({
      passphrase: 'backup passphrase',
      profilePassphrase: 'right passphrase',
    });
    await settle();
    expect(fake.backupHeld).toBe(true);
    await backup.cancel();
    expect(await done).toBe(false);
    expect(fake.callsOf('backup:cancel')).toEqual([{}]);
    expect(backup.running).toBeNull();
    expect(backup.failure).toBeNull();
    expect(backup.restored).toBeNull();
    expect(useNoticesStore().notices).toEqual([]);
  });

  it('a file dialog the user closed (CANCELLED) is not an error either', async () => {
    const backup = useBackupStore();
    fake.fail('backup:verify', 'CANCELLED');
    expect(await backup.verify('backup passphrase')).toBe(false);
    expect(backup.failure).toBeNull();
    expect(backup.verified).toBeNull();
    expect(useNoticesStore().notices).toEqual([]);
  });

  it('keeps the code of a failure with the operation it belongs to, until the next attempt', async () => {
    const backup = useBackupStore();
    fake.fail('backup:verify', 'BACKUP_TRUNCATED');
    expect(await backup.verify('backup passphrase')).toBe(false);
    expect(backup.failure).toEqual({ operation: 'verify', code: 'BACKUP_TRUNCATED' });
    fake.succeed('backup:verify');
    expect(await backup.verify('backup passphrase')).toBe(true);
    expect(backup.failure).toBeNull();
    expect(backup.verified?.messages).toBe(1234);

    expect(await backup.exportBackup({ passphrase: 'short' })).toBe(false);
    expect(backup.failure).toEqual({ operation: 'export', code: 'WEAK_PASSPHRASE' });
  });

  it('holds a generated recovery key only until the user acknowledges it', async () => {
    const backup = useBackupStore();
    expect(await backup.exportBackup({ recoveryKey: true })).toBe(true);
    expect(fake.callsOf('backup:export')).toEqual([{ recoveryKey: true }]);
    expect(backup.recoveryKey).toBe(fake.recoveryKey);
    backup.acknowledgeRecoveryKey();
    expect(backup.recoveryKey).toBeNull();
    expect(backup.exported).not.toBeNull();
  });

  it('a restore makes the returned app state the app’s', async () => {
    fake.state = {
      phase: 'no-profile',
      accountId: null,
      displayName: null,
      keychainSecure: false,
      unlockWith: null,
    };
    await useAppStore().load();
    const backup = useBackupStore();
    expect(
      await backup.restore({
        passphrase: 'backup passphrase',
        protect: { passphrase: 'new strong passphrase', useKeychain: false },
      }),
    ).toBe(true);
    expect(useAppStore().phase).toBe('unlocked');
    expect(useAppStore().state?.accountId).toBe(fakeAccountId('ACCOUNT'));
    expect(backup.restored).toEqual({ added: 1234, summary: fake.backupSummary });
  });

  it('locking forgets the key, the summary and the results', async () => {
    const backup = useBackupStore();
    await backup.exportBackup({ recoveryKey: true });
    await backup.verify('backup passphrase');
    fake.fail('backup:restore', 'BACKUP_TAMPERED');
    await backup.restore({
      passphrase: 'backup passphrase',
      profilePassphrase: 'right passphrase',
    });
    expect(backup.recoveryKey).not.toBeNull();
    expect(backup.verified).not.toBeNull();
    expect(backup.failure).not.toBeNull();

    await useAppStore().lock();
    expect(backup.recoveryKey).toBeNull();
    expect(backup.verified).toBeNull();
    expect(backup.exported).toBeNull();
    expect(backup.failure).toBeNull();
  });

  it('locking during an operation cancels it, and its late result is not kept', async () => {
    const backup = useBackupStore();
    fake.holdBackups = true;
    const done = backup.exportBackup({ recoveryKey: true });
    await settle();
    await useAppStore().lock();
    await settle();
    expect(fake.callsOf('backup:cancel')).toEqual([{}]);
    expect(await done).toBe(false);
    expect(backup.running).toBeNull();
    expect(backup.recoveryKey).toBeNull();
  });

  it('a late result after a lock is dropped even if the core finished first', async () => {
    const backup = useBackupStore();
    fake.holdBackups = true;
    const done = backup.exportBackup({ recoveryKey: true });
    await settle();
    // The cancel does not reach the operation (it is about to finish anyway).
    fake.fail('backup:cancel', 'APP_LOCKED');
    backup.reset();
    expect(fake.backupHeld).toBe(true);
    fake.finishBackup();
    expect(await done).toBe(false);
    expect(backup.recoveryKey).toBeNull();
    expect(backup.exported).toBeNull();
  });
});
