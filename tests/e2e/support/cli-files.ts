import { cli } from '../../support/cli.ts';

// What a CLI member's `attachments` list says of the files it received
// (history without keys), for e2e tests that check what the app sent.

/** One row of `sotto --json attachments CONVERSATION`. */
export type CliAttachment = {
  id: number;
  state: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  preview: string | null;
  fileName: string | null;
};

/** Syncs the CLI profile at `dir`, then lists the files of `conversation`. */
export async function cliAttachments(dir: string, conversation: string): Promise<CliAttachment[]> {
  await cli(dir, ['sync']);
  return JSON.parse(await cli(dir, ['--json', 'attachments', conversation])) as CliAttachment[];
}
