import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  ecPreKeySchema,
  type PreKeyBundleData,
  signedPreKeySchema,
} from '../../../shared/protocol/keys.ts';
import { RELAY_LIMITS, type RelayId } from '../../../shared/relay/protocol.ts';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { SottoError } from '../errors.ts';
import {
  ENVELOPE_NAME,
  FolderLayout,
  identityFileSchema,
  tokenFileSchema,
} from './folder-layout.ts';
import { RELAY_ID_MISMATCH } from './relay-failure.ts';
import { storeMulti } from './folder-multi.ts';
import type { BundleRequest, MultiSubmission, Relay, SealedSubmission } from './relay.ts';
import type { RelayIdPin } from './ws-connection.ts';

// A relay that is just a directory (a shared drive, or a folder a file-sync
// tool keeps in step), used without identity like any relay: bundle fetches
// and sealed envelopes. Envelope files hold only the sealed body and a time,
// under a name derived from the random client message id, so nothing in the
// folder names a sender. Tokens are checked as a courtesy (honest clients
// see RELAY_ERR_BAD_TOKEN exactly as on a server), but a folder cannot
// enforce them: whoever can write the folder can write any mailbox.

let sequence = 0;

/** The folder relay at `root` (an already checked, normalized absolute path). */
export class FolderRelay implements Relay {
  protected readonly layout: FolderLayout;
  private checkedRelayId: RelayId | undefined;

  constructor(
    readonly address: string,
    protected readonly pin: RelayIdPin,
    /** Create the folder and its relay.json on first use (only for the user's own relay). */
    private readonly create = false,
  ) {
    this.layout = new FolderLayout(address);
  }

  async fetchBundle(request: BundleRequest): Promise<PreKeyBundleData> {
    await this.ready();
    const dir = this.layout.keysDir(request.accountId, request.deviceId);
    this.checkToken(request.accountId, request.deviceId, request.token);
    const identity = this.layout.read(join(dir, 'identity.json'), identityFileSchema);
    if (
      !identity ||
      identity.accountId !== request.accountId ||
      identity.deviceId !== request.deviceId
    ) {
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_NO_KEYS');
    }
    const preKey = this.claim(dir, 'ec', ecPreKeySchema);
    const kyber = this.claim(dir, 'kyber', signedPreKeySchema);
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

  async sendBatch(submissions: readonly SealedSubmission[]): Promise<(string | undefined)[]> {
    await this.ready();
    return submissions.map((submission) => {
      try {
        this.store(submission);
        return undefined;
      } catch (error) {
        if (error instanceof SottoError && error.code === 'RELAY_REFUSED' && error.detail)
          return error.detail;
        throw error;
      }
    });
  }

  async sendMulti(submission: MultiSubmission): Promise<Map<AccountId, string | undefined>> {
    await this.ready();
    return storeMulti(submission, {
      checkToken: (accountId, deviceId, token) => this.checkToken(accountId, deviceId, token),
      deliver: (accountId, deviceId, clientMessageId, body) =>
        this.deliver(accountId, deviceId, clientMessageId, body),
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Checks (once) that this folder is a relay with the pinned id; the user's own folder is created on first use. */
  protected async ready(): Promise<RelayId> {
    await Promise.resolve();
    if (this.checkedRelayId) return this.checkedRelayId;
    try {
      if (!statSync(this.address).isDirectory())
        throw new SottoError('RELAY_UNAVAILABLE', 'not a folder');
    } catch (error) {
      if (!this.create || error instanceof SottoError)
        throw new SottoError('RELAY_UNAVAILABLE', 'folder missing');
      mkdirSync(this.address, { recursive: true });
    }
    const relayId = this.layout.relayId(this.create);
    const pinned = this.pin.expected();
    if (pinned !== undefined && pinned !== relayId)
      throw new SottoError('RELAY_REFUSED', RELAY_ID_MISMATCH);
    if (pinned === undefined) this.pin.remember?.(relayId);
    this.checkedRelayId = relayId;
    return relayId;
  }

  /** RELAY_ERR_BAD_TOKEN unless the recipient registered this token (one code for unknown account, no token, wrong token). */
  protected checkToken(accountId: AccountId, deviceId: number, token: Uint8Array): void {
    const file = this.layout.read(
      join(this.layout.keysDir(accountId, deviceId), 'token.json'),
      tokenFileSchema,
    );
    if (!file || file.sha256 !== sha256(token))
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_BAD_TOKEN');
  }

  private store(submission: SealedSubmission): void {
    this.checkToken(submission.recipient, submission.recipientDevice, submission.token);
    this.deliver(
      submission.recipient,
      submission.recipientDevice,
      submission.clientMessageId,
      submission.body,
    );
  }

  /** Writes one envelope file into a mailbox (staged and renamed: never seen half-written); a resubmit is a no-op. */
  private deliver(
    recipient: AccountId,
    recipientDevice: number,
    clientMessageId: string,
    body: Uint8Array,
  ): void {
    if (body.length === 0) throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    if (body.length > RELAY_LIMITS.maxEnvelopeBytes)
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_TOO_LARGE');
    const mailbox = this.layout.mailDir(recipient, recipientDevice);
    mkdirSync(mailbox, { recursive: true });
    // The same (recipient, device, client message id) gives the same tag: a resubmit is recognised (R4).
    // The id is random per envelope, so the tag names no sender.
    const tag = createHash('sha256')
      .update(`sotto-folder-envelope/v2\0${recipient}\0${recipientDevice}\0${clientMessageId}`)
      .digest('base64url')
      .slice(0, 22);
    if (readdirSync(mailbox).some((name) => name.endsWith(`-${tag}.env`))) return;
    const now = Date.now();
    sequence = (sequence + 1) % 1_000_000;
    const name = `${now.toString().padStart(15, '0')}-${sequence.toString().padStart(6, '0')}-${tag}.env`;
    if (!ENVELOPE_NAME.test(name)) throw new SottoError('INTERNAL', 'envelope name');
    this.layout.put(join(mailbox, name), { body: toBase64(body), serverTime: now });
  }

  /**
   * Takes one one-time key file of `kind`. The rename into `taken/` is what
   * makes only one fetcher win it, and what is left there (emptied, its
   * mtime the claim's time) keeps the owner from publishing the id again.
   */
  private claim<T>(dir: string, kind: 'ec' | 'kyber', schema: z.ZodType<T>): T | undefined {
    let names: string[];
    try {
      names = readdirSync(join(dir, 'one-time'))
        .filter((n) => new RegExp(`^${kind}-[0-9]{8}\\.json$`).test(n))
        .sort();
    } catch {
      return undefined;
    }
    mkdirSync(join(dir, 'taken'), { recursive: true });
    for (const name of names) {
      const claimed = join(dir, 'taken', name);
      try {
        renameSync(join(dir, 'one-time', name), claimed);
      } catch {
        continue; // another fetcher won this one
      }
      const key = this.layout.read(claimed, schema);
      writeFileSync(claimed, '');
      if (key !== undefined) return key; // a damaged key file is dropped; the next one will do
    }
    return undefined;
  }
}

/** base64 SHA-256, as token.json stores it. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}
