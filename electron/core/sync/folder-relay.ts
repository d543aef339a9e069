import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { type PreKeyBundleData, type PublishedKeys, publishedKeysSchema, type SignedPreKey, type EcPreKey } from '../../../shared/protocol/keys.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import { LOW_KEY_THRESHOLD } from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import { fsyncDirectory } from '../fs-atomic.ts';
import type { IncomingEnvelope } from '../messaging/receive.ts';
import type { Relay, RelayHealth, RelaySubmission } from './relay.ts';

// A relay that is just a directory (local, shared, or synced by any file sync).
// Layout (docs/relay-protocol.md#folder-relay):
//   keys/<account>.<device>/identity.json          signed + last-resort keys
//   keys/<account>.<device>/one-time/<kind>-<id>.json   one file per one-time key
//   mail/<account>.<device>/<time>-<digest>.env    one file per envelope
//   tmp/                                            staging for atomic renames
// Every write goes to tmp/ and is renamed into place, so readers never see a
// partial file; claiming a one-time key is a rename, which only one fetcher wins.

const envelopeFileSchema = z.object({
  from: z.string(),
  fromDevice: z.number().int(),
  ctype: z.union([z.literal(2), z.literal(3)]),
  body: z.string(),
});

const POLL_MS = 100;

/** Envelope file names this relay writes; anything else in a mailbox (a sync tool's conflict copy…) is ignored. */
const ENVELOPE_NAME = /^[0-9]{15}-[A-Za-z0-9_-]{22}\.env$/;

/** The folder relay for `root`, acting as device `self`. */
export class FolderRelay implements Relay {
  readonly address: string;
  private readonly delivered = new Set<string>();
  private readonly keysLowListeners: (() => void)[] = [];

  constructor(
    root: string,
    private readonly self: { accountId: string; deviceId: number },
  ) {
    this.address = resolve(root);
  }

  publishKeys(keys: PublishedKeys): Promise<void> {
    const { oneTimePreKeys, oneTimeKyberPreKeys, ...identity } = publishedKeysSchema.parse(keys);
    if (keys.accountId !== this.self.accountId) throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_FORBIDDEN');
    const dir = this.keysDir(keys.accountId, keys.deviceId);
    mkdirSync(join(dir, 'one-time'), { recursive: true });
    for (const key of oneTimePreKeys) this.put(join(dir, 'one-time', `ec-${pad(key.id)}.json`), key);
    for (const key of oneTimeKyberPreKeys) this.put(join(dir, 'one-time', `kyber-${pad(key.id)}.json`), key);
    this.put(join(dir, 'identity.json'), identity);
    return Promise.resolve();
  }

  async fetchBundle(accountId: string, deviceId = 1): Promise<PreKeyBundleData> {
    await Promise.resolve();
    const dir = this.keysDir(accountId, deviceId);
    let identity: Omit<PublishedKeys, 'oneTimePreKeys' | 'oneTimeKyberPreKeys'>;
    try {
      identity = publishedKeysSchema
        .omit({ oneTimePreKeys: true, oneTimeKyberPreKeys: true })
        .parse(JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')));
    } catch {
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_NO_KEYS');
    }
    const preKey = this.claim<EcPreKey>(dir, 'ec');
    const kyber = this.claim<SignedPreKey>(dir, 'kyber');
    return {
      accountId: identity.accountId,
      deviceId: identity.deviceId,
      registrationId: identity.registrationId,
      identityKey: identity.identityKey,
      signedPreKey: identity.signedPreKey,
      kyberPreKey: kyber ?? identity.lastResortKyberPreKey,
      preKey: preKey ?? null,
    };
  }

  send(submission: RelaySubmission): Promise<void> {
    const mailbox = this.mailDir(submission.recipient, submission.recipientDevice);
    mkdirSync(mailbox, { recursive: true });
    // Same sender + client message id → same digest → the resubmit is recognised (R4).
    const digest = createHash('sha256')
      .update(`${this.self.accountId}\0${submission.clientMessageId}`)
      .digest('base64url')
      .slice(0, 22);
    if (readdirSync(mailbox).some((name) => name.endsWith(`-${digest}.env`))) return Promise.resolve();
    const name = `${Date.now().toString().padStart(15, '0')}-${digest}.env`;
    this.put(join(mailbox, name), {
      from: this.self.accountId,
      fromDevice: this.self.deviceId,
      ctype: submission.type,
      body: toBase64(submission.body),
    });
    return Promise.resolve();
  }

  async sendBatch(submissions: readonly RelaySubmission[]): Promise<(string | undefined)[]> {
    for (const submission of submissions) await this.send(submission);
    return submissions.map(() => undefined);
  }

  async receive(max: number, waitMs: number): Promise<IncomingEnvelope[]> {
    this.checkKeyStock();
    const deadline = Date.now() + waitMs;
    for (;;) {
      const batch = this.readMailbox(max);
      if (batch.length > 0 || Date.now() >= deadline) return batch;
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
    }
  }

  ack(envelopeIds: readonly string[]): Promise<void> {
    const mailbox = this.mailDir(this.self.accountId, this.self.deviceId);
    for (const id of envelopeIds) {
      // Only names this relay could have handed out; anything else is not ours to delete.
      if (!ENVELOPE_NAME.test(`${id}.env`)) continue;
      rmSync(join(mailbox, `${id}.env`), { force: true });
      this.delivered.delete(id);
    }
    return Promise.resolve();
  }

  health(): Promise<RelayHealth> {
    try {
      mkdirSync(join(this.address, 'tmp'), { recursive: true });
      return Promise.resolve({ reachable: true, queued: this.mailboxNames().length });
    } catch {
      return Promise.resolve({ reachable: false });
    }
  }

  onKeysLow(listener: () => void): void {
    this.keysLowListeners.push(listener);
  }

  /** A folder has no server to warn us: count our own one-time key files instead. */
  private checkKeyStock(): void {
    let names: string[];
    try {
      names = readdirSync(join(this.keysDir(this.self.accountId, this.self.deviceId), 'one-time'));
    } catch {
      return; // nothing published yet
    }
    const ec = names.filter((n) => n.startsWith('ec-')).length;
    const kyber = names.filter((n) => n.startsWith('kyber-')).length;
    if (Math.min(ec, kyber) < LOW_KEY_THRESHOLD) for (const listener of this.keysLowListeners) listener();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private readMailbox(max: number): IncomingEnvelope[] {
    const batch: IncomingEnvelope[] = [];
    const mailbox = this.mailDir(this.self.accountId, this.self.deviceId);
    for (const name of this.mailboxNames()) {
      const id = name.slice(0, -'.env'.length);
      if (this.delivered.has(id)) continue;
      try {
        const file = envelopeFileSchema.parse(JSON.parse(readFileSync(join(mailbox, name), 'utf8')));
        batch.push({ id, sender: file.from, senderDevice: file.fromDevice, type: file.ctype, body: fromBase64(file.body) });
      } catch {
        // A foreign or damaged file: hand it on so the pipeline counts and rejects it (R5).
        batch.push({ id, sender: 'unknown', senderDevice: 1, type: 0, body: new Uint8Array() });
      }
      this.delivered.add(id);
      if (batch.length >= max) break;
    }
    return batch;
  }

  private mailboxNames(): string[] {
    try {
      return readdirSync(this.mailDir(this.self.accountId, this.self.deviceId))
        .filter((name) => ENVELOPE_NAME.test(name))
        .sort();
    } catch {
      return [];
    }
  }

  private claim<T>(dir: string, kind: 'ec' | 'kyber'): T | undefined {
    let names: string[];
    try {
      names = readdirSync(join(dir, 'one-time')).filter((n) => n.startsWith(`${kind}-`)).sort();
    } catch {
      return undefined;
    }
    for (const name of names) {
      const claimed = join(this.address, 'tmp', `claimed-${randomBytes(8).toString('hex')}`);
      try {
        mkdirSync(join(this.address, 'tmp'), { recursive: true });
        renameSync(join(dir, 'one-time', name), claimed); // only one fetcher wins the rename
      } catch {
        continue;
      }
      try {
        return JSON.parse(readFileSync(claimed, 'utf8')) as T;
      } catch {
        continue; // a damaged key file: skip it, the next one will do
      } finally {
        rmSync(claimed, { force: true });
      }
    }
    return undefined;
  }

  private put(path: string, value: unknown): void {
    const staging = join(this.address, 'tmp', `${randomBytes(8).toString('hex')}.tmp`);
    mkdirSync(join(this.address, 'tmp'), { recursive: true });
    writeFileSync(staging, JSON.stringify(value), { flush: true });
    renameSync(staging, path);
    // The sender forgets an envelope once send() returns: the rename must survive a power cut.
    fsyncDirectory(dirname(path));
  }

  private keysDir(accountId: string, deviceId: number): string {
    return join(this.address, 'keys', `${safe(accountId)}.${deviceId}`);
  }

  private mailDir(accountId: string, deviceId: number): string {
    return join(this.address, 'mail', `${safe(accountId)}.${deviceId}`);
  }
}

function pad(id: number): string {
  return id.toString().padStart(8, '0');
}

/** Account ids are base32; anything else must not become a path. */
function safe(accountId: string): string {
  if (!/^[a-z2-7]{32}$/.test(accountId)) throw new SottoError('INVALID_INPUT', 'account id');
  return accountId;
}
