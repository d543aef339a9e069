import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { BLOB_PATH_PREFIX, TUS_PATCH_CONTENT_TYPE, TUS_VERSION } from '../../shared/relay/blobs.ts';
import { type RelayTestClient, type TestDevice, connectAs } from './relay-client.ts';

// Blob HTTP for relay tests (docs/relay-protocol.md#blobs): well-formed
// requests through node:http, and a raw socket for what node:http will not
// send (half a body, slow headers, giant headers).

/** An upload reserved with blob.create. */
export interface CreatedBlob {
  readonly blobId: string;
  readonly uploadToken: string;
  readonly expiresAt: number;
}

/** An HTTP answer with its whole body. */
export interface BlobAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Reserves a blob of `length` bytes on a logged-in connection; throws on an error answer. */
export async function createBlob(client: RelayTestClient, length: number): Promise<CreatedBlob> {
  const answer = await client.request({ type: 'blob.create', length });
  if (answer.type !== 'blob.created') throw new Error(`blob.create: ${JSON.stringify(answer)}`);
  return answer;
}

/** Logs `device` in and reserves one blob. */
export async function createBlobAs(
  url: string,
  device: TestDevice,
  length: number,
): Promise<CreatedBlob> {
  const { client } = await connectAs(url, device);
  try {
    return await createBlob(client, length);
  } finally {
    await client.close();
  }
}

/** One request to the relay's port; `path` defaults to the blob's path. */
export function blobRequest(
  port: number,
  method: string,
  blobId: string,
  {
    headers = {},
    body,
    path,
  }: { headers?: Record<string, string>; body?: Uint8Array; path?: string } = {},
): Promise<BlobAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method, path: path ?? `${BLOB_PATH_PREFIX}${blobId}`, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body === undefined ? undefined : Buffer.from(body));
  });
}

/** The tus headers of an upload request. */
export function tusHeaders(
  token: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { 'tus-resumable': TUS_VERSION, authorization: `Bearer ${token}`, ...extra };
}

/** HEAD: the relay's offset for the upload (throws unless 200). */
export async function uploadOffset(port: number, blob: CreatedBlob): Promise<number> {
  const answer = await blobRequest(port, 'HEAD', blob.blobId, {
    headers: tusHeaders(blob.uploadToken),
  });
  if (answer.status !== 200) throw new Error(`HEAD answered ${answer.status}`);
  return Number(answer.headers['upload-offset']);
}

/** PATCH `bytes` at `offset`. */
export function patch(
  port: number,
  blob: CreatedBlob,
  offset: number,
  bytes: Uint8Array,
): Promise<BlobAnswer> {
  return blobRequest(port, 'PATCH', blob.blobId, {
    headers: tusHeaders(blob.uploadToken, {
      'upload-offset': String(offset),
      'content-type': TUS_PATCH_CONTENT_TYPE,
    }),
    body: bytes,
  });
}

/** A raw TCP connection to the relay's port, with what it has received so far. */
export async function rawSocket(
  port: number,
): Promise<{ socket: Socket; received(): string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

/** The head of a PATCH with a Content-Length, as raw text (the body follows separately). */
export function patchHead(blob: CreatedBlob, offset: number, contentLength: number): string {
  return (
    `PATCH ${BLOB_PATH_PREFIX}${blob.blobId} HTTP/1.1\r\nHost: relay\r\n` +
    `Tus-Resumable: ${TUS_VERSION}\r\nAuthorization: Bearer ${blob.uploadToken}\r\n` +
    `Upload-Offset: ${offset}\r\nContent-Type: ${TUS_PATCH_CONTENT_TYPE}\r\n` +
    `Content-Length: ${contentLength}\r\n\r\n`
  );
}

/** Polls `probe` until it returns true; fails after a generous budget (the machine is busy). */
export async function waitFor(
  probe: () => Promise<boolean> | boolean,
  what: string,
  budgetMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
