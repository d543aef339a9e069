import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { blobIdSchema, type BlobId } from '../../../shared/protocol/attachment.ts';
import {
  BLOB_PATH_PREFIX,
  TUS_PATCH_CONTENT_TYPE,
  TUS_VERSION,
} from '../../../shared/relay/blobs.ts';
import { SottoError } from '../errors.ts';
import type { BlobDownload, BlobDownloads, BlobUpload, BlobUploads } from './blobs.ts';
import { RelayUnavailableError } from './relay-failure.ts';

// Blob transfer with a WebSocket relay (docs/relay-protocol.md#blobs): the
// reservation over the home relay's account connection, the bytes over
// HTTP(S) on the relay's own port (tus HEAD/PATCH up, GET with Range down).
// Both directions stream: memory stays one chunk whatever the blob's size.
// TLS trust is Node's default, as for the WebSocket client.

/** A socket idle this long (no byte either way) is given up (the caller resumes). */
const IDLE_TIMEOUT_MS = 30_000;

/** The blob URL of `blobId` on the relay at `address` (ws:// → http://, wss:// → https://). */
export function blobUrl(address: string, blobId: BlobId): URL {
  const base = address.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/+$/, '');
  return new URL(`${base}${BLOB_PATH_PREFIX}${blobIdSchema.parse(blobId)}`);
}

/** What an HTTP status means for the core (blobs.ts): not found, try later, or refused. */
function statusFailure(response: IncomingMessage): SottoError {
  const status = response.statusCode ?? 0;
  if (status === 404) return new SottoError('ATTACHMENT_NOT_FOUND');
  if (status === 413) return new SottoError('RELAY_REFUSED', 'RELAY_ERR_TOO_LARGE');
  // Busy (another PATCH, or the offset moved: ask again), budgets, drain, relay failures.
  if (status === 409 || status === 423 || status === 429 || status === 503 || status >= 500) {
    const seconds = Number(response.headers['retry-after']);
    return new RelayUnavailableError(
      `blob http ${status}`,
      Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined,
    );
  }
  return new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
}

/** Sends one request; resolves with the response head (the body is left to the caller). */
function send(
  url: URL,
  method: string,
  headers: OutgoingHttpHeaders,
  body?: Readable,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method,
      headers,
      ...(signal === undefined ? {} : { signal }),
    });
    request.setTimeout(IDLE_TIMEOUT_MS, () =>
      request.destroy(new RelayUnavailableError('blob transfer stalled')),
    );
    request.once('response', resolve);
    request.once('error', (error) =>
      reject(
        signal?.aborted === true
          ? new SottoError('CANCELLED')
          : error instanceof SottoError
            ? error
            : new RelayUnavailableError('blob transfer failed'),
      ),
    );
    if (body === undefined) request.end();
    else
      // A failing source (the caller's file) fails the request; its error wins over ours.
      pipeline(body, request).catch((error: unknown) => {
        request.destroy();
        reject(error instanceof Error ? error : new RelayUnavailableError('blob upload failed'));
      });
  });
}

function offsetOf(response: IncomingMessage): number {
  const offset = Number(response.headers['upload-offset']);
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
  return offset;
}

/** Uploads to this device's home relay; `reserve` is its blob.create (WebSocketHomeRelay.createBlob). */
export class WebSocketBlobUploads implements BlobUploads {
  constructor(
    private readonly address: string,
    private readonly reserve: (length: number) => Promise<BlobUpload>,
  ) {}

  create(length: number): Promise<BlobUpload> {
    return this.reserve(length);
  }

  async offset(upload: BlobUpload): Promise<number> {
    const response = await send(blobUrl(this.address, upload.blobId), 'HEAD', this.tus(upload));
    response.resume();
    if (response.statusCode !== 200) throw statusFailure(response);
    return offsetOf(response);
  }

  async append(
    upload: BlobUpload,
    offset: number,
    data: AsyncIterable<Uint8Array>,
  ): Promise<number> {
    const headers = {
      ...this.tus(upload),
      'upload-offset': offset,
      'content-type': TUS_PATCH_CONTENT_TYPE,
    };
    const response = await send(
      blobUrl(this.address, upload.blobId),
      'PATCH',
      headers,
      Readable.from(data, { objectMode: false }),
    );
    response.resume();
    if (response.statusCode !== 204) throw statusFailure(response);
    return offsetOf(response);
  }

  private tus(upload: BlobUpload): OutgoingHttpHeaders {
    // The token goes in a header, never the URL (URLs end up in proxy logs).
    return { 'tus-resumable': TUS_VERSION, authorization: `Bearer ${upload.uploadToken}` };
  }
}

/** Downloads complete blobs from the relay at `address` (no login: the id is the capability). */
export class HttpBlobDownloads implements BlobDownloads {
  constructor(private readonly address: string) {}

  async download(blobId: BlobId, offset: number, signal?: AbortSignal): Promise<BlobDownload> {
    const headers = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const response = await send(blobUrl(this.address, blobId), 'GET', headers, undefined, signal);
    const status = response.statusCode ?? 0;
    const total = /^bytes (?:\d+-\d+|\*)\/(\d+)$/.exec(response.headers['content-range'] ?? '');
    if (status === 416 && Number(total?.[1]) === offset) {
      // Everything was downloaded already: nothing left from this offset.
      response.resume();
      return { length: offset, body: (async function* () {})() };
    }
    if (!(status === 200 && offset === 0) && status !== 206) {
      response.resume();
      throw statusFailure(response);
    }
    const length = status === 206 ? Number(total?.[1]) : Number(response.headers['content-length']);
    if (!Number.isSafeInteger(length)) {
      response.destroy();
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    }
    return { length, body: chunks(response, signal) };
  }
}

/** The response body, with a cut or an abort as the core's errors. */
async function* chunks(response: IncomingMessage, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of response) yield chunk as Buffer;
  } catch {
    throw signal?.aborted === true
      ? new SottoError('CANCELLED')
      : new RelayUnavailableError('blob download cut');
  }
  // A connection closed early ends the stream without an error in some Node versions.
  if (!response.complete) throw new RelayUnavailableError('blob download cut');
}
