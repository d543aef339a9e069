// The attachment: scheme's request → response logic, free of Electron so it
// runs (and is tested) under plain Node against a real profile; main's
// protocol handler and the Chromium e2e both call it. See
// docs/architecture.md#attachments-in-the-app.
import { Readable } from 'node:stream';
import { attachmentIdOfUrl, MEDIA_TYPES } from '../../../shared/ipc/attachment-url.ts';
import { decryptRange, type MediaSource } from '../../core/attachments/media-source.ts';
import { SottoError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import { parseByteRange } from './byte-range.ts';

/** Finds the stored copy of an attachment id (through the core); undefined if there is none. */
export type MediaLookup = (id: number) => Promise<MediaSource | undefined>;

/** What the scheme answers: a status, headers, and the decrypted bytes (null for none). */
export interface MediaResponse {
  readonly status: 200 | 206 | 404 | 405 | 416 | 422;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: AsyncIterable<Buffer> | null;
}

/** On every answer: never cached (not even in memory across loads), never sniffed, never a document. */
const BASE_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; sandbox",
  'Referrer-Policy': 'no-referrer',
};

const refusal = (
  status: 404 | 405 | 416 | 422,
  extra: Record<string, string> = {},
): MediaResponse => ({ status, headers: { ...BASE_HEADERS, ...extra }, body: null });

/**
 * Answers one request of the scheme: GET or HEAD of `attachment://media/<id>`.
 * 404 for any other URL, an unknown id, one not downloaded yet, or a type
 * outside MEDIA_TYPES; 416 for a bad `Range`; 422 (X-Sotto-Error:
 * ATTACHMENT_TAMPERED) when the stored copy fails its check where the range
 * starts (a format 0 copy: anywhere), which runs before a single byte is served.
 */
export async function mediaResponse(
  request: { readonly url: string; readonly method: string; readonly range: string | null },
  lookup: MediaLookup,
): Promise<MediaResponse> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405);
  const id = attachmentIdOfUrl(request.url);
  if (id === undefined) return refusal(404);
  const source = await lookup(id);
  if (!source || !MEDIA_TYPES.has(source.contentType)) return refusal(404);
  const range = parseByteRange(request.range, source.size);
  if (range === 'unsatisfiable') return refusal(416, { 'Content-Range': `bytes */${source.size}` });
  const start = range?.start ?? 0;
  const end = range?.end ?? source.size - 1;
  const chunks = decryptRange(source, start, end);
  let body: AsyncGenerator<Buffer>;
  try {
    body = await primed(chunks);
  } catch (error) {
    if (error instanceof SottoError && error.code === 'ATTACHMENT_TAMPERED') {
      log.error('attachments.media_tampered', error);
      return refusal(422, { 'X-Sotto-Error': 'ATTACHMENT_TAMPERED' });
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return refusal(404);
    throw error;
  }
  if (request.method === 'HEAD') await chunks.return(undefined); // closes the file
  const headers: Record<string, string> = {
    ...BASE_HEADERS,
    'Content-Type': source.contentType,
    'Content-Length': String(end - start + 1),
    'Accept-Ranges': 'bytes',
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${source.size}` } : {}),
  };
  return { status: range ? 206 : 200, headers, body: request.method === 'HEAD' ? null : body };
}

/**
 * Decrypts (and checks) the first piece before the answer goes out, so a
 * copy altered where the range starts is a 422 with nothing served; a chunk
 * further on that fails its check ends the body with an error instead (no
 * byte of it is ever yielded), which the player sees as a network error.
 */
async function primed(chunks: AsyncGenerator<Buffer>): Promise<AsyncGenerator<Buffer>> {
  const first = await chunks.next();
  return (async function* () {
    if (!first.done) yield first.value;
    yield* chunks;
  })();
}

/**
 * The same answer as a WHATWG Response, for a WHATWG Request: what Electron's
 * `protocol.handle` takes and gives (and the e2e's route handler).
 */
export async function mediaFetchResponse(request: Request, lookup: MediaLookup): Promise<Response> {
  const answer = await mediaResponse(
    { url: request.url, method: request.method, range: request.headers.get('range') },
    lookup,
  );
  const body = answer.body ? (Readable.toWeb(Readable.from(answer.body)) as ReadableStream) : null;
  return new Response(body, { status: answer.status, headers: answer.headers });
}
