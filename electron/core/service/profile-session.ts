import { existsSync } from 'node:fs';
import type { AppState } from '../../../shared/ipc/contract.ts';
import type { BackupRunOptions } from '../backup/progress.ts';
import { importBackup } from '../backup/import.ts';
import { ownDestination, resetIdentity } from '../crypto/identity-reset.ts';
import { SottoError } from '../errors.ts';
import { readKeyFile } from '../keys/keyfile.ts';
import { assertStrongPassphrase } from '../keys/passphrase-policy.ts';
import { profilePaths } from '../profile/paths.ts';
import { Profile } from '../profile/profile.ts';
import { setHomeRelay } from '../sync/home-relay-setting.ts';
import { checkOwnRelayAddress } from '../sync/relay-address.ts';
import { summaryOf } from './backups.ts';
import type { Emit, ParsedInput, ServiceOptions } from './types.ts';

/** What the session needs from the rest of the service. */
export interface SessionHooks {
  /** A profile was opened (created, unlocked, restored, re-keyed): start syncing it. */
  opened(profile: Profile): void;
  /** Stops syncing before the database is closed, swapped or re-keyed. */
  stopSync(): Promise<void>;
  readonly emit: Emit;
}

/**
 * The service's one profile and its phase: `no-profile` → create or restore;
 * `locked` (not open, or hidden from the UI) → unlock; `unlocked`. "Locked"
 * hides the profile from the UI while the core keeps receiving; the key stays
 * in this process until `close` (docs/threat-model.md).
 */
export class ProfileSession {
  private current: Profile | undefined;
  private hidden = false;

  constructor(
    private readonly options: ServiceOptions,
    private readonly hooks: SessionHooks,
  ) {}

  /** The open profile, locked or not (sync runs on it either way). */
  get profile(): Profile | undefined {
    return this.current;
  }

  /** True while the UI is locked (only content-free events reach it). */
  get locked(): boolean {
    return this.hidden;
  }

  /** The unlocked profile; APP_LOCKED or NO_PROFILE otherwise. */
  open(): Profile {
    if (this.current && !this.hidden) return this.current;
    if (this.current || this.keyFileExists()) throw new SottoError('APP_LOCKED');
    throw new SottoError('NO_PROFILE');
  }

  state(): AppState {
    const exists = this.current !== undefined || this.keyFileExists();
    const shown = this.current && !this.hidden ? this.current.account : undefined;
    return {
      phase: !exists ? 'no-profile' : shown ? 'unlocked' : 'locked',
      accountId: shown?.accountId ?? null,
      displayName: shown?.displayName ?? null,
      keychainSecure: this.options.keychain?.isSecure ?? false,
      unlockWith: exists ? this.unlockMethod() : null,
    };
  }

  /** 'keychain' if the key file has a keychain wrapper this machine can use, else 'passphrase'. */
  unlockMethod(): 'keychain' | 'passphrase' {
    try {
      const file = readKeyFile(profilePaths(this.options.profileDir).keyFile);
      const hasKeychain = file.wrappers.some((w) => w.type === 'keychain');
      return hasKeychain && this.options.keychain?.isSecure ? 'keychain' : 'passphrase';
    } catch {
      return 'passphrase'; // a damaged key file is reported when unlocking
    }
  }

  async create(input: ParsedInput<'profile:create'>): Promise<AppState> {
    if (this.current || this.keyFileExists()) throw new SottoError('PROFILE_EXISTS');
    const keychain = input.useKeychain ? this.options.keychain : undefined;
    if (input.useKeychain && !keychain?.isSecure && input.passphrase === undefined)
      throw new SottoError('PASSPHRASE_REQUIRED');
    // Name (INVALID_NAME) and passphrase (WEAK_PASSPHRASE) are checked by Profile.create before it writes anything.
    // The address is checked before the profile exists: a refused address leaves nothing behind.
    const allowInsecure = input.allowInsecureRelay === true;
    checkOwnRelayAddress(input.relay, allowInsecure);
    const profile = await Profile.create(this.options.profileDir, {
      displayName: input.displayName,
      ...(input.passphrase !== undefined ? { passphrase: input.passphrase } : {}),
      ...(keychain ? { keychain } : {}),
      ...(this.options.kdfCost ? { kdfCost: this.options.kdfCost } : {}),
    });
    setHomeRelay(profile, input.relay, { allowInsecure });
    this.adopt(profile);
    return this.state();
  }

  async unlock(passphrase: string | undefined): Promise<AppState> {
    const unlockWith = {
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(this.options.keychain ? { keychain: this.options.keychain } : {}),
    };
    if (this.current) {
      if (this.hidden) await this.current.verifyUnlock(unlockWith);
      this.hidden = false;
    } else {
      this.adopt(await Profile.open(this.options.profileDir, unlockWith));
    }
    return this.state();
  }

  lock(reason: 'user' | 'idle'): AppState {
    if (this.current && !this.hidden) {
      this.hidden = true;
      this.hooks.emit('app:locked', { reason });
    }
    return this.state();
  }

  /**
   * Identity reset (docs/message-format.md#identity-reset). Destructive, so the
   * user proves ownership as at unlock (the passphrase, unless the profile
   * opens by keychain only). Sync restarts: it logged in as the old account.
   */
  async resetIdentity(passphrase: string | undefined): Promise<AppState> {
    const profile = this.open();
    if (passphrase !== undefined || this.unlockMethod() === 'passphrase')
      await profile.verifyUnlock({ passphrase: passphrase ?? '' });
    const destination = ownDestination(profile);
    await this.hooks.stopSync();
    try {
      await resetIdentity(profile, destination);
    } finally {
      this.hooks.opened(profile);
    }
    this.hooks.emit('conversations:changed', {});
    return this.state();
  }

  /**
   * Restores into a new profile (first run) or merges into this one. The
   * import needs the profile closed (it swaps the database file), so a merge
   * stops sync, closes, imports, and reopens with the same credentials — also
   * when the import is refused, which changes nothing (R6).
   */
  async restore(input: ParsedInput<'backup:restore'>, file: string, run: BackupRunOptions) {
    const keychain = this.options.keychain;
    if (!this.current) {
      if (this.keyFileExists()) throw new SottoError('APP_LOCKED');
      const protect = input.protect ?? { useKeychain: false };
      const useKeychain = protect.useKeychain && keychain?.isSecure === true;
      if (protect.passphrase === undefined && !useKeychain)
        throw new SottoError('PASSPHRASE_REQUIRED');
      // Before the import's long first pass, not after it: the same rule as profile:create.
      if (protect.passphrase !== undefined) await assertStrongPassphrase(protect.passphrase);
      const create = {
        ...(protect.passphrase !== undefined ? { passphrase: protect.passphrase } : {}),
        ...(useKeychain ? { keychain } : {}),
        ...(this.options.kdfCost ? { kdfCost: this.options.kdfCost } : {}),
      };
      const report = await importBackup(this.options.profileDir, file, {
        ...run,
        passphrase: input.passphrase,
        create,
      });
      this.adopt(await Profile.open(this.options.profileDir, create));
      return {
        state: this.state(),
        added: report.messagesInserted,
        summary: summaryOf(report.manifest),
      };
    }
    const profile = this.open();
    const unlock = {
      ...(input.profilePassphrase !== undefined ? { passphrase: input.profilePassphrase } : {}),
      ...(keychain ? { keychain } : {}),
    };
    await profile.verifyUnlock(unlock);
    await this.hooks.stopSync();
    await profile.close();
    this.current = undefined;
    let report;
    try {
      report = await importBackup(this.options.profileDir, file, {
        ...run,
        passphrase: input.passphrase,
        unlock,
      });
    } finally {
      this.adopt(await Profile.open(this.options.profileDir, unlock));
      this.hooks.emit('conversations:changed', {});
    }
    return {
      state: this.state(),
      added: report.messagesInserted,
      summary: summaryOf(report.manifest),
    };
  }

  /** Closes the profile (the caller stopped sync first). */
  async close(): Promise<void> {
    await this.current?.close();
    this.current = undefined;
  }

  private adopt(profile: Profile): void {
    this.current = profile;
    this.hidden = false;
    this.hooks.opened(profile);
  }

  private keyFileExists(): boolean {
    return existsSync(profilePaths(this.options.profileDir).keyFile);
  }
}
