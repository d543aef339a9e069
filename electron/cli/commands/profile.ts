import type { Command } from 'commander';
import { KDF_FLOOR } from '../../core/keys/kdf-bounds.ts';
import type { GlobalOptions } from '../context.ts';
import { parsePositive } from '../parse.ts';

// Definitions only: each action imports its implementation when it runs (docs/architecture.md#build).
const actions = () => import('../actions/profile.ts');

const FLOOR_MIB = KDF_FLOOR.memoryKiB / 1024;

/** `init`, `passphrase`, `invite`, `status`. */
export function registerProfileCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('init')
    .description('create a profile: keys, encrypted database, relay')
    .requiredOption(
      '--relay <url|path>',
      'your relay: wss://host, ws://127.0.0.1:port, or a folder path',
    )
    .option(
      '--insecure',
      'allow an unencrypted ws:// relay on another host (readable and alterable on the network)',
    )
    .requiredOption('--name <name>', 'your display name, shown to contacts')
    .option(
      '--kdf-memory <MiB>',
      `Argon2id memory for the passphrase (default 256, at least ${FLOOR_MIB})`,
      parsePositive,
    )
    .option(
      '--kdf-iterations <n>',
      `Argon2id passes (default 3, at least ${KDF_FLOOR.iterations})`,
      parsePositive,
    )
    .action(
      async (options: {
        relay: string;
        insecure?: boolean;
        name: string;
        kdfMemory?: number;
        kdfIterations?: number;
      }) => (await actions()).init(globals(), options),
    );

  program
    .command('passphrase')
    .description(
      'change the profile passphrase (new one from SOTTO_NEW_PASSPHRASE, or asked for twice)',
    )
    .option(
      '--kdf-memory <MiB>',
      `Argon2id memory for the new passphrase (default 256, at least ${FLOOR_MIB})`,
      parsePositive,
    )
    .option(
      '--kdf-iterations <n>',
      `Argon2id passes (default 3, at least ${KDF_FLOOR.iterations})`,
      parsePositive,
    )
    .action(async (options: { kdfMemory?: number; kdfIterations?: number }) =>
      (await actions()).changePassphrase(globals(), options),
    );

  program
    .command('invite')
    .description('print your invite (pipe it to a contact)')
    .action(async () => (await actions()).invite(globals()));

  program
    .command('status')
    .description('relay reachability and outbox size')
    .action(async () => (await actions()).status(globals()));
}
