import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { SottoError } from '../../electron/core/errors.ts';
import type { BundleRequest, HomeRelay, KeyStatus } from '../../electron/core/sync/relay.ts';
import type { AccountId } from '../../shared/protocol/account-id.ts';
import {
  type PreKeyBundleData,
  type PublishedKeys,
  publishedKeysSchema,
} from '../../shared/protocol/keys.ts';
import { type MoveNotice, RELAY_LIMITS } from '../../shared/relay/protocol.ts';

/**
 * The key directory of a home relay, kept in one JSON file (replaced by
 * rename, so a process killed mid-write leaves the old or the new state).
 * A test stand-in for the parts of `sotto-relay` that key maintenance and
 * identity moves use: publish (one-time keys added, refused beyond the cap,
 * signed keys replaced), `keys.status`, bundle fetches that hand out one-time
 * keys, and `account.move` recorded. Mailbox methods are not part of it.
 */
export class FileHomeRelay implements HomeRelay {
  readonly address: string;
  constructor(private readonly file: string) {
    this.address = file;
  }

  private read(): { keys: PublishedKeys | null; moves: MoveNotice[] } {
    if (!existsSync(this.file)) return { keys: null, moves: [] };
    return JSON.parse(readFileSync(this.file, 'utf8')) as {
      keys: PublishedKeys | null;
      moves: MoveNotice[];
    };
  }

  private write(state: { keys: PublishedKeys | null; moves: MoveNotice[] }): void {
    writeFileSync(`${this.file}.tmp`, JSON.stringify(state));
    renameSync(`${this.file}.tmp`, this.file);
  }

  /** What the directory holds now (for assertions). */
  get keys(): PublishedKeys | null {
    return this.read().keys;
  }

  get moves(): MoveNotice[] {
    return this.read().moves;
  }

  publishKeys(keys: PublishedKeys): Promise<void> {
    const parsed = publishedKeysSchema.parse(keys);
    const state = this.read();
    const held = state.keys;
    const pre = [...(held?.oneTimePreKeys ?? []), ...parsed.oneTimePreKeys];
    const kyber = [...(held?.oneTimeKyberPreKeys ?? []), ...parsed.oneTimeKyberPreKeys];
    if (
      parsed.oneTimePreKeys.length > RELAY_LIMITS.maxOneTimeKeysPerPublish ||
      parsed.oneTimeKyberPreKeys.length > RELAY_LIMITS.maxOneTimeKeysPerPublish ||
      pre.length > RELAY_LIMITS.maxStoredOneTimeKeys ||
      kyber.length > RELAY_LIMITS.maxStoredOneTimeKeys
    ) {
      return Promise.reject(new SottoError('RELAY_REFUSED', 'RELAY_ERR_TOO_MANY_KEYS'));
    }
    this.write({ ...state, keys: { ...parsed, oneTimePreKeys: pre, oneTimeKyberPreKeys: kyber } });
    return Promise.resolve();
  }

  keyStatus(): Promise<KeyStatus> {
    const keys = this.read().keys;
    return Promise.resolve({
      preKeyIds: keys?.oneTimePreKeys.map((k) => k.id) ?? [],
      kyberPreKeyIds: keys?.oneTimeKyberPreKeys.map((k) => k.id) ?? [],
      signedPreKeyId: keys?.signedPreKey.id ?? null,
      lastResortKyberPreKeyId: keys?.lastResortKyberPreKey.id ?? null,
    });
  }

  fetchBundle(request: BundleRequest): Promise<PreKeyBundleData> {
    const state = this.read();
    const keys = state.keys;
    if (!keys || keys.accountId !== request.accountId)
      return Promise.reject(new SottoError('RELAY_REFUSED', 'RELAY_ERR_BAD_TOKEN'));
    const [preKey, ...restPre] = keys.oneTimePreKeys;
    const [kyber, ...restKyber] = keys.oneTimeKyberPreKeys;
    this.write({
      ...state,
      keys: { ...keys, oneTimePreKeys: restPre, oneTimeKyberPreKeys: restKyber },
    });
    return Promise.resolve({
      accountId: keys.accountId,
      deviceId: keys.deviceId,
      registrationId: keys.registrationId,
      identityKey: keys.identityKey,
      signedPreKey: keys.signedPreKey,
      kyberPreKey: kyber ?? keys.lastResortKyberPreKey,
      preKey: preKey ?? null,
    });
  }

  moveAccount(notice: MoveNotice): Promise<void> {
    const state = this.read();
    this.write({ ...state, moves: [...state.moves, notice] });
    return Promise.resolve();
  }

  /** Shorthand for a bundle fetch by account id (tokens are not modelled here). */
  bundleFor(accountId: AccountId): Promise<PreKeyBundleData> {
    return this.fetchBundle({ accountId, deviceId: 1, token: new Uint8Array(16) });
  }

  sendBatch(): Promise<(string | undefined)[]> {
    return Promise.reject(new Error('not part of the key directory stand-in'));
  }
  sendMulti(): Promise<Map<AccountId, string | undefined>> {
    return Promise.reject(new Error('not part of the key directory stand-in'));
  }
  registerToken(): Promise<void> {
    return Promise.resolve();
  }
  receive(): Promise<never[]> {
    return Promise.resolve([]);
  }
  ack(): Promise<void> {
    return Promise.resolve();
  }
  health() {
    return Promise.resolve({ reachable: true });
  }
  onKeysLow(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}
