import type { Command } from 'commander';
import { SottoError } from '../../core/errors.ts';
import type { GlobalOptions } from '../context.ts';

// Definitions only: the action imports its implementation when it runs (docs/architecture.md#build).
const actions = () => import('../actions/identity.ts');

const WARNING = [
  'Identity reset replaces your identity key, and with it your account id.',
  'Use it only if you think your key was stolen. Every contact sees a changed',
  'safety number and must accept it before writing to you again; messages still',
  'waiting for the old account on your relay can no longer be read.',
  'Run again with --yes to go ahead.',
].join('\n');

/** `identity reset`. */
export function registerIdentityCommands(program: Command, globals: () => GlobalOptions): void {
  const identity = program.command('identity').description('your identity key');
  identity
    .command('reset')
    .description(
      'new identity key and account id; contacts are told by a notice signed with the old key',
    )
    .option('--yes', 'confirm: the old key is deleted')
    .action(async (options: { yes?: boolean }) => {
      if (!options.yes) {
        process.stderr.write(`${WARNING}\n`);
        throw new SottoError('INVALID_INPUT', 'identity reset needs --yes');
      }
      return (await actions()).identityReset(globals());
    });
}
