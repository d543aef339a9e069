import { z } from 'zod';
import {
  autoDownloadMbSchema,
  MAX_AUTO_DOWNLOAD_MB,
  type networkSchema,
} from '../../../shared/ipc/attachments.ts';
import type { AttachmentRow } from './attachment-rows.ts';

// Which incoming attachments download without a click (issue 13 §2). The
// desktop app's policy comes from Settings (images up to N MB, never on a
// metered connection); the CLI downloads everything (a headless profile has
// nobody to click). A row the user asked for always downloads, one they
// cancelled only when they ask again (attachment-rows.ts DownloadChoice).

/** What the renderer knows of the connection (navigator.connection); 'unknown' counts as not metered. */
export type Network = z.infer<typeof networkSchema>;

/** Decimal megabytes, as the UI shows sizes. */
export const MB = 1_000_000;

/** The policy: images up to `imagesUpToMb` (0 = never) download by themselves, and on a metered connection only if `onMetered`. */
export const downloadPolicySchema = z
  .object({
    imagesUpToMb: autoDownloadMbSchema,
    onMetered: z.boolean(),
  })
  .strict();
export type DownloadPolicy = z.infer<typeof downloadPolicySchema> & {
  /** Every attachment, whatever its type and size (the CLI). */
  readonly everything?: boolean;
};

/** The app's default: images up to 10 MB, never on a metered connection. */
export const APP_DOWNLOAD_POLICY: DownloadPolicy = { imagesUpToMb: 10, onMetered: false };

/** The CLI's: everything on arrival, as before the policy existed. */
export const DOWNLOAD_EVERYTHING: DownloadPolicy = {
  imagesUpToMb: MAX_AUTO_DOWNLOAD_MB,
  onMetered: true,
  everything: true,
};

/** The policy in force and the connection it applies to. */
export interface DownloadRules {
  readonly policy: DownloadPolicy;
  readonly network: Network;
}

/** True if the download job may fetch this incoming pending row now without a click. */
export function mayDownload(rules: DownloadRules, row: AttachmentRow): boolean {
  if (row.downloadChoice === 'requested') return true;
  if (row.downloadChoice === 'declined') return false;
  const { policy, network } = rules;
  if (network === 'metered' && !policy.onMetered) return false;
  if (policy.everything) return true;
  return row.contentType.startsWith('image/') && row.size <= policy.imagesUpToMb * MB;
}
