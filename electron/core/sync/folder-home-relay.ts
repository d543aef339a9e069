import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import { type PublishedKeys, publishedKeysSchema } from '../../../shared/protocol/keys.ts';
import {
  LOW_KEY_THRESHOLD,
  type MoveNotice,
  RELAY_LIMITS,
} from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import {
  ENVELOPE_NAME,
  envelopeFileSchema,
  identityFileSchema,
  TAKEN_KEEP_MS,
} from './folder-layout.ts';
import { FolderRelay, sha256 } from './folder-relay.ts';
import type { HomeRelay, IncomingEnvelope, KeyStatus, RelayHealth } from './relay.ts';
import type { RelayIdPin } from './ws-connection.ts';

// The user's own folder relay: a FolderRelay plus this device's mailbox,
// keys and token. There is no login (a folder has no server to log in to):
// "being this device" is only which mailbox it reads.

const POLL_MS = 100;
const KEY_NAME = /^(ec|kyber)-([0-9]{8})\.json$/;

/** This device's folder relay. */
export class FolderHomeRelay extends FolderRelay implements HomeRelay {
  /** Handed out by `receive` and not acked yet: not handed out again by this client (like a relay's push window). */
  private readonly delivered = new Set<string>();
  private readonly keysLowListeners: (() => void)[] = [];

  constructor(
    address: string,
    private readonly self: { readonly accountId: AccountId; readonly deviceId: number },
    pin: RelayIdPin,
  ) {
    super(address, pin, true);
  }

  async publishKeys(keys: PublishedKeys): Promise<void> {
    await this.ready();
    const { oneTimePreKeys, oneTimeKyberPreKeys, ...identity } = publishedKeysSchema.parse(keys);
    if (identity.accountId !== this.self.accountId || identity.deviceId !== this.self.deviceId) {
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_FORBIDDEN');
    }
    const dir = this.layout.keysDir(identity.accountId, identity.deviceId);
    // An id a fetcher took is never stored again (a publish re-sent after a crash, say):
    // the same one-time key would go to a second sender.
    const taken = this.takenNames(dir);
    const ec = oneTimePreKeys.filter((key) => !taken.has(keyName('ec', key.id)));
    const kyber = oneTimeKyberPreKeys.filter((key) => !taken.has(keyName('kyber', key.id)));
    const held = this.oneTimeIds();
    if (
      held.ec.length + ec.length > RELAY_LIMITS.maxStoredOneTimeKeys ||
      held.kyber.length + kyber.length > RELAY_LIMITS.maxStoredOneTimeKeys
    ) {
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_TOO_MANY_KEYS');
    }
    for (const key of ec) this.layout.put(join(dir, 'one-time', keyName('ec', key.id)), key);
    for (const key of kyber) this.layout.put(join(dir, 'one-time', keyName('kyber', key.id)), key);
    this.layout.put(join(dir, 'identity.json'), identity);
  }

  /**
   * The names of one-time key files fetchers took (`taken/`, FolderRelay's
   * claim) in the last TAKEN_KEEP_MS; older marks are deleted.
   */
  private takenNames(dir: string): Set<string> {
    const names = new Set<string>();
    let entries: string[];
    try {
      entries = readdirSync(join(dir, 'taken'));
    } catch {
      return names;
    }
    const cutoff = Date.now() - TAKEN_KEEP_MS;
    for (const name of entries) {
      if (!KEY_NAME.test(name)) continue;
      const mark = join(dir, 'taken', name);
      try {
        if (statSync(mark).mtimeMs < cutoff) rmSync(mark, { force: true });
        else names.add(name);
      } catch {
        // gone meanwhile
      }
    }
    return names;
  }

  async keyStatus(): Promise<KeyStatus> {
    await this.ready();
    const held = this.oneTimeIds();
    const identity = this.layout.read(join(this.ownKeysDir(), 'identity.json'), identityFileSchema);
    return {
      preKeyIds: held.ec,
      kyberPreKeyIds: held.kyber,
      signedPreKeyId: identity?.signedPreKey.id ?? null,
      lastResortKyberPreKeyId: identity?.lastResortKyberPreKey.id ?? null,
    };
  }

  async registerToken(token: Uint8Array): Promise<void> {
    await this.ready();
    this.layout.put(join(this.ownKeysDir(), 'token.json'), { sha256: sha256(token) });
  }

  /** A folder has no authority to enforce a move: contacts learn it from the signed `moved` content. Accepted, nothing stored. */
  async moveAccount(notice: MoveNotice): Promise<void> {
    await this.ready();
    if (notice.to !== this.self.accountId)
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_FORBIDDEN');
  }

  async receive(max: number, waitMs: number): Promise<IncomingEnvelope[]> {
    await this.ready();
    this.checkKeyStock();
    const deadline = Date.now() + waitMs;
    for (;;) {
      const batch = this.readMailbox(max);
      if (batch.length > 0 || Date.now() >= deadline) return batch;
      await new Promise((r) =>
        setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))),
      );
    }
  }

  async ack(envelopeIds: readonly string[]): Promise<void> {
    await this.ready();
    const mailbox = this.ownMailbox();
    for (const id of envelopeIds) {
      // Only names this relay could have handed out; anything else is not ours to delete.
      if (!ENVELOPE_NAME.test(`${id}.env`)) continue;
      rmSync(join(mailbox, `${id}.env`), { force: true });
      this.delivered.delete(id);
    }
  }

  async health(): Promise<RelayHealth> {
    try {
      await this.ready();
      return { reachable: true, queued: this.mailboxNames().length };
    } catch {
      return { reachable: false };
    }
  }

  onKeysLow(listener: () => void): void {
    this.keysLowListeners.push(listener);
  }

  /** A folder has no server to warn us: count our own one-time key files instead. */
  private checkKeyStock(): void {
    const held = this.oneTimeIds();
    if (
      held.ec.length + held.kyber.length === 0 &&
      !this.layout.read(join(this.ownKeysDir(), 'identity.json'), identityFileSchema)
    ) {
      return; // nothing published yet
    }
    if (Math.min(held.ec.length, held.kyber.length) < LOW_KEY_THRESHOLD)
      for (const listener of this.keysLowListeners) listener();
  }

  private oneTimeIds(): { ec: number[]; kyber: number[] } {
    const held = { ec: [] as number[], kyber: [] as number[] };
    let names: string[];
    try {
      names = readdirSync(join(this.ownKeysDir(), 'one-time'));
    } catch {
      return held;
    }
    for (const name of names.sort()) {
      const match = KEY_NAME.exec(name);
      if (match?.[1] === 'ec' || match?.[1] === 'kyber') held[match[1]].push(Number(match[2]));
    }
    return held;
  }

  private readMailbox(max: number): IncomingEnvelope[] {
    const batch: IncomingEnvelope[] = [];
    const mailbox = this.ownMailbox();
    for (const name of this.mailboxNames()) {
      const id = name.slice(0, -'.env'.length);
      if (this.delivered.has(id)) continue;
      const file = this.layout.read(join(mailbox, name), envelopeFileSchema);
      // A foreign or damaged file is handed on empty so the pipeline counts and rejects it (R5), and it is acked.
      batch.push(
        file
          ? { id, body: fromBase64(file.body), serverTime: file.serverTime }
          : { id, body: new Uint8Array(), serverTime: 0 },
      );
      this.delivered.add(id);
      if (batch.length >= max) break;
    }
    return batch;
  }

  private mailboxNames(): string[] {
    try {
      return readdirSync(this.ownMailbox())
        .filter((name) => ENVELOPE_NAME.test(name))
        .sort();
    } catch {
      return [];
    }
  }

  private ownKeysDir(): string {
    return this.layout.keysDir(this.self.accountId, this.self.deviceId);
  }

  private ownMailbox(): string {
    return this.layout.mailDir(this.self.accountId, this.self.deviceId);
  }
}

/** A one-time key's file name in `one-time/` and `taken/`. */
function keyName(kind: 'ec' | 'kyber', id: number): string {
  return `${kind}-${id.toString().padStart(8, '0')}.json`;
}
