import type { Profile } from '../profile/profile.ts';
import type { BlobUploads } from '../sync/blobs.ts';
import { blobDownloads } from '../sync/blob-transport.ts';
import { type DownloadReport, downloadAttachments } from './download-job.ts';
import { type UploadReport, uploadAttachments } from './upload-job.ts';

// The attachment jobs as the sync engine runs them, over the blob transport
// of each relay (sync/blob-transport.ts).

/** Uploads due attachments to the home relay and queues the messages that became complete (the engine's outbox passes never overlap). */
export function runUploads(profile: Profile, uploads: () => BlobUploads): Promise<UploadReport> {
  return uploadAttachments(profile, uploads);
}

/** A download pass per profile at a time: two passes appending to one temp file would corrupt it. */
const downloading = new WeakMap<Profile, Promise<DownloadReport>>();

/** Downloads due attachments from their senders' relays (a caller during a pass shares it). */
export function runDownloads(profile: Profile): Promise<DownloadReport> {
  const running = downloading.get(profile);
  if (running) return running;
  const pass = downloadAttachments(profile, (address, relayId) =>
    blobDownloads(profile, address, relayId),
  ).finally(() => downloading.delete(profile));
  downloading.set(profile, pass);
  return pass;
}
