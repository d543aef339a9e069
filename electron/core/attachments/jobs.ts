import type { Profile } from '../profile/profile.ts';
import { blobDownloads, homeBlobUploads } from '../sync/blob-transport.ts';
import { type DownloadReport, downloadAttachments } from './download-job.ts';
import { type UploadReport, uploadAttachments } from './upload-job.ts';

// The attachment jobs as the sync engine runs them, over the blob transport
// of each relay (sync/blob-transport.ts).

/** Uploads due attachments to the home relay and queues the messages that became complete. */
export function runUploads(profile: Profile): Promise<UploadReport> {
  return uploadAttachments(profile, () => homeBlobUploads(profile));
}

/** Downloads due attachments from their senders' relays. */
export function runDownloads(profile: Profile): Promise<DownloadReport> {
  return downloadAttachments(profile, (address, relayId) =>
    blobDownloads(profile, address, relayId),
  );
}
