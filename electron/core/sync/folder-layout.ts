import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { PADDED_BASE64 } from '../../../shared/protocol/encoding.ts';
import { publishedKeysSchema } from '../../../shared/protocol/keys.ts';
import {
  type RelayId,
  relayIdSchema,
  RELAY_PROTOCOL_VERSION,
} from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import { fsyncDirectory } from '../fs-atomic.ts';

// The on-disk layout of a folder relay (docs/relay-protocol.md#folder-relay)
// and the schemas every file read from it must pass: a folder is shared
// with whoever can write it, so nothing read back is trusted.
//
//   relay.json                                      {"protocol": 2, "relayId": "<22 chars>"}, made on first use
//   keys/<account>.<device>/identity.json           signed + last-resort keys
//   keys/<account>.<device>/token.json              {"sha256": base64}: SHA-256 of the delivery token
//   keys/<account>.<device>/one-time/<kind>-<id>.json  one file per one-time key (kind: ec, kyber)
//   keys/<account>.<device>/taken/<kind>-<id>.json     empty: a key a fetcher took (mtime: when)
//   mail/<account>.<device>/<time>-<seq>-<tag>.env  {"body": base64, "serverTime": ms}: one sealed envelope
//   tmp/                                            staging for atomic renames and key claims

/** relay.json */
export const relayFileSchema = z.strictObject({
  protocol: z.literal(RELAY_PROTOCOL_VERSION),
  relayId: relayIdSchema,
});

/** identity.json: PublishedKeys without the one-time keys. */
export const identityFileSchema = publishedKeysSchema
  .omit({ oneTimePreKeys: true, oneTimeKyberPreKeys: true })
  .strict();

/** token.json */
export const tokenFileSchema = z.strictObject({ sha256: z.string().regex(/^[A-Za-z0-9+/]{43}=$/) });

/** An envelope file: the sealed body and when it was stored. No sender, no type. */
export const envelopeFileSchema = z.strictObject({
  body: z.string().min(4).regex(PADDED_BASE64),
  serverTime: z.number().int().nonnegative(),
});

/**
 * How long a taken one-time key's mark keeps its id from being published
 * again: as long as a server relay remembers a handed-out id, and as long as
 * a client keeps the private half of a consumed key (docs/relay-protocol.md).
 */
export const TAKEN_KEEP_MS = 30 * 24 * 60 * 60 * 1000;

/** Envelope file names this relay writes; anything else in a mailbox (a sync tool's conflict copy…) is ignored. */
export const ENVELOPE_NAME = /^[0-9]{15}-[0-9]{6}-[A-Za-z0-9_-]{22}\.env$/;

/** Paths inside one folder relay. */
export class FolderLayout {
  constructor(readonly root: string) {}

  /** Where a device's published keys and token hash live. */
  keysDir(accountId: AccountId, deviceId: number): string {
    return join(this.root, 'keys', `${safe(accountId)}.${deviceId}`);
  }

  /** A device's mailbox. */
  mailDir(accountId: AccountId, deviceId: number): string {
    return join(this.root, 'mail', `${safe(accountId)}.${deviceId}`);
  }

  /** Staging for atomic writes and key claims (on the same filesystem, so renames are atomic). */
  get tmp(): string {
    return join(this.root, 'tmp');
  }

  /**
   * The relay id in relay.json, creating the file when `create` and it is
   * missing. Creation links a staged file into place, so two first users
   * cannot both win: the loser reads the winner's id.
   */
  relayId(create: boolean): RelayId {
    const path = join(this.root, 'relay.json');
    const existing = this.readRelayFile(path);
    if (existing) return existing;
    if (!create) throw new SottoError('RELAY_UNAVAILABLE', 'no relay.json');
    const staged = this.stage(
      JSON.stringify({
        protocol: RELAY_PROTOCOL_VERSION,
        relayId: randomBytes(16).toString('base64url'),
      }),
    );
    try {
      linkSync(staged, path);
      fsyncDirectory(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new SottoError('RELAY_UNAVAILABLE', 'relay.json not writable');
    } finally {
      rmSync(staged, { force: true });
    }
    const created = this.readRelayFile(path);
    if (!created) throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    return created;
  }

  /** Writes `value` as JSON at `path` atomically and durably (staged in tmp/, renamed, directory synced). */
  put(path: string, value: unknown): void {
    const staged = this.stage(JSON.stringify(value));
    mkdirSync(dirname(path), { recursive: true });
    renameSync(staged, path);
    // A sender forgets an envelope once the send returned: the rename must survive a power cut.
    fsyncDirectory(dirname(path));
  }

  /** Reads a JSON file through `schema`; undefined when missing, damaged or not matching. */
  read<T>(path: string, schema: z.ZodType<T>): T | undefined {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = schema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private readRelayFile(path: string): RelayId | undefined {
    if (!existsSync(path)) return undefined;
    const file = this.read(path, relayFileSchema);
    // A relay.json that exists but does not parse is not silently replaced: that would change the relay's id.
    if (!file) throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    return file.relayId;
  }

  private stage(text: string): string {
    mkdirSync(this.tmp, { recursive: true });
    const staged = join(this.tmp, `${randomBytes(8).toString('hex')}.tmp`);
    writeFileSync(staged, text, { flush: true });
    return staged;
  }
}

/** Account ids are UUID-shaped (checked again here): anything else must not become a path. */
function safe(accountId: AccountId): string {
  if (!accountIdSchema.safeParse(accountId).success)
    throw new SottoError('INVALID_INPUT', 'account id');
  return accountId;
}
