import type { Command } from 'commander';
import type { GlobalOptions } from '../context.ts';
import { parseMuteFor } from '../parse.ts';

// Definitions only: each action imports its implementation when it runs (docs/architecture.md#build).
const actions = () => import('../actions/mute.ts');

/** `mute CONTACT|GROUP [--for DURATION]`, `unmute CONTACT|GROUP`. */
export function registerMuteCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('mute')
    .description('mute a contact or group: no notifications, not counted in the app badge')
    .argument('<target>', 'display name or account id, or group title or id')
    .option(
      '--for <duration>',
      'how long: 30m, 8h, 2d, 1w (a year at most) or always (the default)',
      parseMuteFor,
    )
    .action(async (name: string, options: { for?: number | null }) =>
      (await actions()).mute(globals(), name, options.for ?? null),
    );
  program
    .command('unmute')
    .description('unmute a contact or group')
    .argument('<target>', 'display name or account id, or group title or id')
    .action(async (name: string) => (await actions()).unmute(globals(), name));
}
