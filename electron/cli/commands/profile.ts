import type { Command } from 'commander';
import { DEFAULT_KDF_COST, hasCode, outboxSize, Profile, SottoError } from '../../core/index.ts';
import { rejectedEnvelopeCount } from '../../core/messaging/receive.ts';
import { trustRefusalCounts } from '../../core/crypto/trust-refusals.ts';
import { profileInvite } from '../../core/profile/invite.ts';
import { checkOwnRelayAddress } from '../../core/sync/relay-address.ts';
import { setHomeRelay } from '../../core/sync/home-relay-setting.ts';
import { SyncEngine } from '../../core/sync/engine.ts';
import { type GlobalOptions, print, profileDir, readPassphrase, withEngine } from '../context.ts';

/** `init`, `invite`, `status`. */
export function registerProfileCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('init')
    .description('create a profile: keys, encrypted database, relay')
    .requiredOption('--relay <url|path>', 'your relay: wss://host, ws://127.0.0.1:port, or a folder path')
    .option('--insecure', 'allow an unencrypted ws:// relay on another host (readable and alterable on the network)')
    .requiredOption('--name <name>', 'your display name, shown to contacts')
    .option('--kdf-memory <MiB>', 'Argon2id memory for the passphrase (default 256)', parsePositive)
    .option('--kdf-iterations <n>', 'Argon2id passes (default 3)', parsePositive)
    .action(async (options: { relay: string; insecure?: boolean; name: string; kdfMemory?: number; kdfIterations?: number }) => {
      const g = globals();
      // Checked before anything is created or connected: a refused address leaves nothing behind.
      checkOwnRelayAddress(options.relay, options.insecure === true);
      const passphrase = await readPassphrase('New passphrase');
      if (process.env['SOTTO_PASSPHRASE'] === undefined && (await readPassphrase('Repeat passphrase')) !== passphrase) {
        throw new SottoError('INVALID_INPUT', 'passphrases differ');
      }
      const profile = await Profile.create(profileDir(g), {
        displayName: options.name,
        passphrase,
        kdfCost: {
          ...DEFAULT_KDF_COST,
          ...(options.kdfMemory ? { memoryKiB: options.kdfMemory * 1024 } : {}),
          ...(options.kdfIterations ? { iterations: options.kdfIterations } : {}),
        },
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
            `Created profile for ${options.name} (${profile.account.accountId}).`,
            published ? 'Keys published to the relay.' : 'Relay unreachable: keys will be published on the next sync.',
          ].join('\n'),
        );
      } finally {
        await engine.close();
        await profile.close();
      }
    });

  program
    .command('invite')
    .description('print your invite (pipe it to a contact)')
    .action(() =>
      withEngine(globals(), async (profile, engine) => {
        await engine.connectHome(); // the invite names the relay's id, pinned at the first connection
        const invite = profileInvite(profile);
        print(globals(), { invite }, () => invite);
      }),
    );

  program
    .command('status')
    .description('relay reachability and outbox size')
    .action(() =>
      withEngine(globals(), async (profile, engine) => {
        const health = await engine.home.health();
        const status = {
          accountId: profile.account.accountId,
          name: profile.account.displayName,
          relay: engine.home.address,
          reachable: health.reachable,
          outbox: outboxSize(profile),
          failedMessages: Number(profile.db.prepare("SELECT count(*) FROM messages WHERE status = 'failed'", { pluck: true }).get()),
          rejectedEnvelopes: rejectedEnvelopeCount(profile.db),
          trustRefusals: trustRefusalCounts(profile.db),
        };
        const refused = Object.entries(status.trustRefusals).filter(([, n]) => n > 0);
        print(globals(), status, () =>
          [
            `account  ${status.accountId} (${status.name})`,
            `relay    ${status.relay} (${status.reachable ? 'reachable' : 'unreachable'})`,
            `outbox   ${status.outbox}${status.failedMessages > 0 ? ` (${status.failedMessages} failed: sotto retry CONTACT)` : ''}`,
            ...(status.rejectedEnvelopes > 0 ? [`${status.rejectedEnvelopes} incoming message(s) could not be decrypted`] : []),
            ...(refused.length > 0 ? [`refused  ${refused.map(([code, n]) => `${code} ${n}`).join(', ')} (forged keys or move notices)`] : []),
          ].join('\n'),
        );
      }),
    );
}

/** Commander parser for a positive integer option. */
export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new SottoError('INVALID_INPUT', 'expected a positive integer');
  return n;
}
