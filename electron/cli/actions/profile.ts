import {
  hasCode,
  kdfCostFromOptions,
  normalizeDisplayName,
  outboxSize,
  Profile,
} from '../../core/index.ts';
import { failedMessageCount } from '../../core/history/conversation-state.ts';
import { rejectedEnvelopeCount } from '../../core/messaging/receive.ts';
import { trustRefusalCounts } from '../../core/crypto/trust-refusals.ts';
import { profileInvite } from '../../core/profile/invite.ts';
import { checkOwnRelayAddress } from '../../core/sync/relay-address.ts';
import { setHomeRelay } from '../../core/sync/home-relay-setting.ts';
import { SyncEngine } from '../../core/sync/engine.ts';
import {
  type GlobalOptions,
  print,
  profileDir,
  readNewPassphrase,
  readPassphrase,
  withEngine,
} from '../context.ts';

// What `init`, `passphrase`, `invite` and `status` do (the definitions are commands/profile.ts).

/** `init --relay R --name N`: creates the profile, then registers the token and publishes keys if the relay answers. */
export async function init(
  g: GlobalOptions,
  options: {
    relay: string;
    insecure?: boolean;
    name: string;
    kdfMemory?: number;
    kdfIterations?: number;
  },
): Promise<void> {
  // Checked before anything is created or connected: a refused address leaves nothing behind.
  checkOwnRelayAddress(options.relay, options.insecure === true);
  // Flags and name first: a refusal must not cost the user two passphrase prompts.
  const kdfCost = kdfCostFromOptions({
    memoryMiB: options.kdfMemory,
    iterations: options.kdfIterations,
  });
  const displayName = normalizeDisplayName(options.name);
  // The core checks name and passphrase (INVALID_NAME, WEAK_PASSPHRASE) before writing anything.
  const profile = await Profile.create(profileDir(g), {
    displayName,
    passphrase: await readNewPassphrase('New passphrase'),
    kdfCost,
  });
  const engine = new SyncEngine(profile);
  let published = false;
  try {
    setHomeRelay(profile, options.relay, { allowInsecure: options.insecure === true });
    try {
      // The first connection pins the relay's id (the invite carries it); the token goes first.
      await engine.registerToken();
      await engine.publishKeys();
      published = true;
    } catch (error) {
      if (!hasCode(error, 'RELAY_UNAVAILABLE')) throw error;
    }
    print(g, { accountId: profile.account.accountId, published }, () =>
      [
        `Created profile for ${profile.account.displayName} (${profile.account.accountId}).`,
        published
          ? 'Keys published to the relay.'
          : 'Relay unreachable: keys will be published on the next sync.',
      ].join('\n'),
    );
  } finally {
    await engine.close();
    await profile.close();
  }
}

/** `passphrase`: re-wraps the database key under a new passphrase (the key file is replaced atomically). */
export async function changePassphrase(
  g: GlobalOptions,
  options: { kdfMemory?: number; kdfIterations?: number },
): Promise<void> {
  const kdfCost = kdfCostFromOptions({
    memoryMiB: options.kdfMemory,
    iterations: options.kdfIterations,
  });
  const current = await readPassphrase('Current passphrase');
  const profile = await Profile.open(profileDir(g), { passphrase: current });
  try {
    // WEAK_PASSPHRASE is decided by the core; the key file is replaced atomically or not at all.
    await profile.changePassphrase(
      current,
      await readNewPassphrase('New passphrase', 'SOTTO_NEW_PASSPHRASE'),
      kdfCost,
    );
  } finally {
    await profile.close();
  }
  print(g, { changed: true }, () => 'Passphrase changed.');
}

/** `invite`: prints the invite, after connecting once so it names the relay's pinned id. */
export function invite(g: GlobalOptions): Promise<void> {
  return withEngine(g, async (profile, engine) => {
    await engine.connectHome(); // the invite names the relay's id, pinned at the first connection
    const text = profileInvite(profile);
    print(g, { invite: text }, () => text);
  });
}

/** `status`: relay reachability, outbox, failed messages and refusal counters. */
export function status(g: GlobalOptions): Promise<void> {
  return withEngine(g, async (profile, engine) => {
    const health = await engine.home.health();
    const report = {
      accountId: profile.account.accountId,
      name: profile.account.displayName,
      relay: engine.home.address,
      reachable: health.reachable,
      outbox: outboxSize(profile),
      failedMessages: failedMessageCount(profile.db),
      rejectedEnvelopes: rejectedEnvelopeCount(profile.db),
      trustRefusals: trustRefusalCounts(profile.db),
    };
    const refused = Object.entries(report.trustRefusals).filter(([, n]) => n > 0);
    print(g, report, () =>
      [
        `account  ${report.accountId} (${report.name})`,
        `relay    ${report.relay} (${report.reachable ? 'reachable' : 'unreachable'})`,
        `outbox   ${report.outbox}${report.failedMessages > 0 ? ` (${report.failedMessages} failed: sotto retry CONTACT)` : ''}`,
        ...(report.rejectedEnvelopes > 0
          ? [`${report.rejectedEnvelopes} incoming message(s) could not be decrypted`]
          : []),
        ...(refused.length > 0
          ? [
              `refused  ${refused.map(([code, n]) => `${code} ${n}`).join(', ')} (forged keys or move notices)`,
            ]
          : []),
      ].join('\n'),
    );
  });
}
