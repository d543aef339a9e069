import type { Command } from 'commander';
import type { GlobalOptions } from '../context.ts';

// Definitions only: each action imports its implementation when it runs (docs/architecture.md#build).
const actions = () => import('../actions/sync.ts');

/** `receive`, `sync`, `listen`. */
export function registerSyncCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('receive')
    .description('fetch and store incoming messages, then exit')
    .action(async () => (await actions()).receive(globals()));

  program
    .command('sync')
    .description('send the outbox and fetch incoming messages, then exit')
    .action(async () => (await actions()).sync(globals()));

  program
    .command('listen')
    .description('stay connected and print one JSON line per event (Ctrl-C to stop)')
    .action(async () => (await actions()).listen(globals()));
}
