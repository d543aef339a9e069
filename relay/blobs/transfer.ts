import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BlobId } from '../../shared/protocol/attachment.ts';
import { TUS_PATCH_CONTENT_TYPE } from '../../shared/relay/blobs.ts';
import { log } from '../log.ts';
import { countBlobRefusal, metrics } from '../metrics.ts';
import type { RelaySettings } from '../options.ts';
import type { StoredBlob } from '../storage.ts';
import { BlobOffsetMismatch, type BlobStore } from './store.ts';

// The two transfers of docs/relay-protocol.md#blobs once the request is
// routed and (for PATCH) authorized: a PATCH streamed into the BlobStore and
// a GET, whole or from a range, streamed out of it.

/** One routed blob request. */
export interface BlobRequest {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly blobId: BlobId;
  readonly store: BlobStore;
  readonly settings: RelaySettings;
}

const DECIMAL = /^\d{1,16}$/;
const RANGE = /^bytes=(\d{1,16})-(\d{0,16})$/;

/** Answers a blob request with a status and headers, no body. */
export function answer(
  response: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string | number>> = {},
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, { ...headers, 'content-length': 0 }).end();
}

/** PATCH: appends the body at Upload-Offset, which must be the relay's offset. */
export async function upload(context: BlobRequest, blob: StoredBlob): Promise<void> {
  const { request, response, store, settings } = context;
  if (request.headers['content-type'] !== TUS_PATCH_CONTENT_TYPE) return answer(response, 415);
  const claimed = String(request.headers['upload-offset'] ?? '');
  const declared = request.headers['content-length'];
  if (!DECIMAL.test(claimed) || (declared !== undefined && !DECIMAL.test(declared)))
    return answer(response, 400);
  const offset = Number(claimed);
  const current = blob.complete
    ? blob.length
    : Math.min(await store.size(blob.storageKey), blob.length);
  if (offset !== current) {
    countBlobRefusal('offset');
    return answer(response, 409, { 'upload-offset': current });
  }
  // Refused before a byte is read when the length already says it.
  if (declared !== undefined && offset + Number(declared) > blob.length) {
    countBlobRefusal('too_long');
    return answer(response, 413, { 'upload-offset': current });
  }
  if (blob.complete) return answer(response, 204, { 'upload-offset': blob.length });
  let appended;
  try {
    appended = await store.append(blob.storageKey, offset, request, blob.length - offset);
  } catch (error) {
    // Another node moved the offset between our size and our append.
    if (!(error instanceof BlobOffsetMismatch)) throw error;
    countBlobRefusal('offset');
    return answer(response, 409, { 'upload-offset': Math.min(error.actual, blob.length) });
  }
  metrics.blobBytesIn += appended.offset - offset;
  if (appended.offset === blob.length) {
    await store.finish(blob.storageKey);
    await settings.storage.completeBlob(context.blobId);
    metrics.blobsStored += 1;
    log.info('blob.complete', { bytes: blob.length });
  }
  if (appended.overflowed) {
    countBlobRefusal('too_long');
    return answer(response, 413, { 'upload-offset': appended.offset });
  }
  // A cut body: the client is gone, the prefix is durable, HEAD will say where to resume.
  if (!request.complete) {
    log.info('blob.patch_cut', { bytes: appended.offset - offset });
    request.socket.destroy();
    return;
  }
  answer(response, 204, { 'upload-offset': appended.offset });
}

/** GET: the complete blob, or from `Range: bytes=n-` / `bytes=n-m` (206). */
export async function download(context: BlobRequest, blob: StoredBlob): Promise<void> {
  const { request, response, store } = context;
  const header = request.headers.range;
  let start = 0;
  let end = blob.length - 1;
  if (header !== undefined) {
    const range = RANGE.exec(header);
    const first = Number(range?.[1]);
    const last = range?.[2] === '' ? end : Number(range?.[2]);
    // Only the two forms above; anything else, or a range starting past the end, is refused.
    if (range === null || first > end || last < first)
      return answer(response, 416, { 'content-range': `bytes */${blob.length}` });
    start = first;
    end = Math.min(last, end);
  }
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'content-length': end - start + 1,
    'accept-ranges': 'bytes',
  };
  if (header !== undefined) headers['content-range'] = `bytes ${start}-${end}/${blob.length}`;
  response.writeHead(header === undefined ? 200 : 206, headers);
  const source = store.read(blob.storageKey, start, end);
  source.on('data', (chunk: Buffer) => (metrics.blobBytesOut += chunk.length));
  try {
    await pipeline(source, response);
  } catch {
    // The reader went away or stalled past the idle timeout.
    log.info('blob.get_cut');
  }
}
