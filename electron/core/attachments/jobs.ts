import type { Profile } from '../profile/profile.ts';
import type { BlobUploads } from '../sync/blobs.ts';
import { blobDownloads } from '../sync/blob-transport.ts';
import { type DownloadReport, downloadAttachments } from './download-job.ts';
import type { DownloadRules } from './download-policy.ts';
import { type UploadReport, uploadAttachments } from './upload-job.ts';

// The attachment jobs as the sync engine runs them, over the blob transport
// of each relay (sync/blob-transport.ts).

/** Uploads due attachments to the home relay and queues the messages that became complete (the engine's outbox passes never overlap). */
export function runUploads(profile: Profile, uploads: () => BlobUploads): Promise<UploadReport> {
  return uploadAttachments(profile, uploads);
}

interface Passes {
  running: Promise<DownloadReport>;
  /** One more pass after the running one, shared by every caller meanwhile (a click during a pass). */
  followUp?: Promise<DownloadReport>;
}

/** A download pass per profile at a time: two passes appending to one temp file would corrupt it. */
const downloading = new WeakMap<Profile, Passes>();

/**
 * Downloads due attachments from their senders' relays. Single-flight: a
 * caller during a pass gets one more pass after it (so a row the user asked
 * for meanwhile is fetched), which every such caller shares.
 */
export function runDownloads(
  profile: Profile,
  rules: () => DownloadRules,
): Promise<DownloadReport> {
  const passes = downloading.get(profile);
  if (passes) {
    passes.followUp ??= passes.running
      .catch(() => undefined)
      .then(() => {
        passes.followUp = undefined;
        downloading.delete(profile);
        return runDownloads(profile, rules);
      });
    return passes.followUp;
  }
  const running = downloadAttachments(
    profile,
    (address, relayId) => blobDownloads(profile, address, relayId),
    rules(),
  ).finally(() => {
    if (downloading.get(profile)?.running === running && !downloading.get(profile)?.followUp)
      downloading.delete(profile);
  });
  downloading.set(profile, { running });
  return running;
}
