import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BlobId } from '../../shared/protocol/attachment.ts';
import { BLOB_PATH_PREFIX, TUS_VERSION } from '../../shared/relay/blobs.ts';
import { sameBytes } from '../auth.ts';
import type { RelayBudgets } from '../budgets.ts';
import { log } from '../log.ts';
import { countBlobRefusal } from '../metrics.ts';
import type { RelaySettings } from '../options.ts';
import type { StoredBlob } from '../storage.ts';
import { answer, download, upload, type BlobRequest } from './transfer.ts';

// Blob HTTP on the relay's own port (docs/relay-protocol.md#blobs): routing,
// the upload token check, budgets, idle timeouts and drain. The transfers
// themselves are in transfer.ts. Every answer closes its connection: the
// relay's per-socket header deadline then covers the only request a socket
// carries, and a client opens one connection per PATCH or GET, which is
// nothing next to the bytes. Nothing here logs an id, a token or an address.

const BLOB_PATH = new RegExp(`^${BLOB_PATH_PREFIX.replace(/\//g, '\\/')}([A-Za-z0-9_-]{22})$`);
const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;

/** Serves blob requests until drained. */
export class BlobHttp {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly requests = new Set<IncomingMessage>();
  private readonly uploading = new Set<BlobId>();
  private closing = false;

  constructor(
    private readonly settings: RelaySettings,
    private readonly budgets: RelayBudgets,
  ) {}

  /** True if the request is for a blob (the caller hands it to `handle`). */
  static matches(request: IncomingMessage): boolean {
    return (request.url ?? '').startsWith(BLOB_PATH_PREFIX);
  }

  /** Answers one blob request from `address`. */
  handle(request: IncomingMessage, response: ServerResponse, address: string): void {
    const done = this.serve(request, response, address)
      .catch(() => {
        log.error('blob.failed');
        answer(response, 500);
      })
      .finally(() => {
        this.inFlight.delete(done);
        this.requests.delete(request);
      });
    this.inFlight.add(done);
    this.requests.add(request);
  }

  /**
   * Refuses new requests (503), lets the ones in progress finish for up to
   * `graceMs`, then cuts them: a cut PATCH keeps (and fsyncs) its prefix.
   * Resolves once every handler is done with the stores.
   */
  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0 && Date.now() < deadline)
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((resolve) => setTimeout(resolve, 50)),
      ]);
    for (const request of this.requests) request.socket.destroy();
    await Promise.allSettled([...this.inFlight]);
  }

  private async serve(
    request: IncomingMessage,
    response: ServerResponse,
    address: string,
  ): Promise<void> {
    response.shouldKeepAlive = false;
    response.setHeader('tus-resumable', TUS_VERSION);
    response.setHeader('cache-control', 'no-store');
    // A stalled body or a reader that stopped reading: cut after the idle time.
    request.socket.setTimeout(this.settings.blobIdleTimeoutMs, () => {
      log.info('blob.idle_timeout');
      request.socket.destroy();
    });
    const store = this.settings.blobStore;
    if (this.closing) return answer(response, 503, { 'retry-after': 1 });
    const budget = this.budgets.blobRequest(address);
    if (!budget.ok) {
      countBlobRefusal('budget');
      return answer(response, 429, { 'retry-after': Math.ceil(budget.retryAfterMs / 1000) });
    }
    const match = BLOB_PATH.exec(request.url ?? '');
    if (store === undefined || match?.[1] === undefined) return this.notFound(response);
    const blobId = match[1];
    const context: BlobRequest = { request, response, blobId, store, settings: this.settings };
    switch (request.method) {
      case 'GET': {
        const blob = await this.live(blobId);
        if (blob === undefined || !blob.complete) return this.notFound(response);
        return await download(context, blob);
      }
      case 'HEAD':
      case 'PATCH':
        return await this.authorized(context);
      default:
        return answer(response, 405, { allow: 'GET, HEAD, PATCH' });
    }
  }

  /** HEAD and PATCH: the tus version, then the upload token of this very blob. */
  private async authorized(context: BlobRequest): Promise<void> {
    const { request, response, blobId } = context;
    if (request.headers['tus-resumable'] !== TUS_VERSION)
      return answer(response, 412, { 'tus-version': TUS_VERSION });
    const bearer = BEARER.exec(request.headers.authorization ?? '');
    if (bearer?.[1] === undefined) {
      countBlobRefusal('token');
      return answer(response, 401, { 'www-authenticate': 'Bearer' });
    }
    const blob = await this.live(blobId);
    const hash = createHash('sha256').update(Buffer.from(bearer[1], 'base64url')).digest();
    // Unknown, expired and wrong token look the same: a token holder learns nothing about other ids.
    if (blob === undefined || !sameBytes(hash, blob.tokenHash)) {
      countBlobRefusal('token');
      return this.notFound(response);
    }
    if (request.method === 'HEAD') {
      const offset = blob.complete
        ? blob.length
        : Math.min(await context.store.size(blob.storageKey), blob.length);
      return answer(response, 200, { 'upload-offset': offset, 'upload-length': blob.length });
    }
    // One PATCH per upload at a time on this node: a second would race the first's offset.
    if (this.uploading.has(blobId)) {
      countBlobRefusal('busy');
      return answer(response, 423);
    }
    this.uploading.add(blobId);
    try {
      await upload(context, blob);
    } finally {
      this.uploading.delete(blobId);
    }
  }

  /** The blob's row unless unknown or expired (an expired row waits for the sweep). */
  private async live(blobId: BlobId): Promise<StoredBlob | undefined> {
    const blob = await this.settings.storage.blob(blobId);
    return blob !== undefined && blob.expiresAt > this.settings.now() ? blob : undefined;
  }

  private notFound(response: ServerResponse): void {
    answer(response, 404);
  }
}
