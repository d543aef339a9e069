// The worker side of CoreHost: builds a CoreService, runs each call by id,
// forwards its events, and proxies keychain requests to the main thread
// (Electron's safeStorage works on the main thread only). Separate from the
// entry file so tests can serve a fake CoreService through the same plumbing.
import type { MessagePort } from 'node:worker_threads';
import { isErrorCode, type ErrorCode } from '../../shared/errors.ts';
import type { Result } from '../../shared/ipc/contract.ts';
import { SottoError } from '../core/errors.ts';
import type { MediaSource } from '../core/attachments/media-source.ts';
import type { KeychainAdapter } from '../core/keys/keychain.ts';
import { log } from '../core/log.ts';
import type { CoreService, ServiceOptions } from '../core/service/types.ts';
import { inBackground } from './background.ts';
import type { CoreWorkerInit, HostToWorker, KeychainOp, WorkerToHost } from './core-protocol.ts';

export type CreateService = (options: ServiceOptions) => CoreService | Promise<CoreService>;

/** The stable code of a failure; anything that is not a SottoError is INTERNAL (and logged, code only). */
function failureCode(error: unknown, event: string): ErrorCode {
  if (error instanceof SottoError) return error.code;
  log.error(event, error);
  return 'INTERNAL';
}

/** Serves one CoreService on `port` until the host sends `close`. */
export function serveCore(port: MessagePort, init: CoreWorkerInit, create: CreateService): void {
  const post = (message: WorkerToHost): void => port.postMessage(message);
  const pendingKeychain = new Map<
    number,
    { resolve: (value: Uint8Array) => void; reject: (error: unknown) => void }
  >();
  const inFlight = new Set<Promise<void>>();
  let nextKeychainId = 1;
  let service: CoreService | undefined;
  let closing = false;

  const keychainRequest = (op: KeychainOp, data: Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const id = nextKeychainId++;
      pendingKeychain.set(id, { resolve, reject });
      post({ type: 'keychain', id, op, data });
    });

  const keychain: KeychainAdapter | undefined = init.keychain
    ? {
        backend: init.keychain.backend,
        isSecure: init.keychain.isSecure,
        encrypt: (secret) => keychainRequest('encrypt', secret),
        decrypt: (blob) => keychainRequest('decrypt', blob),
      }
    : undefined;

  async function run(call: Extract<HostToWorker, { type: 'call' }>): Promise<void> {
    let result: Result<unknown>;
    try {
      if (!service || closing) throw new SottoError('CANCELLED');
      // The host validated the input against the contract; the cast only restores its type.
      const value: unknown = await service.call(call.method, call.input as never, call.context);
      result = { ok: true, value };
    } catch (error) {
      result = { ok: false, code: failureCode(error, 'core.call_failed') };
    }
    post({ type: 'result', id: call.id, result });
  }

  async function close(): Promise<void> {
    closing = true;
    await Promise.allSettled([...inFlight]);
    try {
      await service?.close();
    } catch (error) {
      failureCode(error, 'core.close_failed');
    }
    post({ type: 'closed' });
    port.close();
  }

  port.on('message', (message: HostToWorker) => {
    switch (message.type) {
      case 'call': {
        const task: Promise<void> = run(message).finally(() => inFlight.delete(task));
        inFlight.add(task);
        break;
      }
      case 'keychain-reply': {
        const pending = pendingKeychain.get(message.id);
        pendingKeychain.delete(message.id);
        if (!pending) break;
        if (message.ok) pending.resolve(message.value);
        else
          pending.reject(
            isErrorCode(message.code)
              ? new SottoError(message.code)
              : new Error('keychain request failed'),
          );
        break;
      }
      case 'media': {
        let source: MediaSource | null = null;
        try {
          source = (!closing && service?.mediaSource?.(message.attachmentId)) || null;
        } catch (error) {
          failureCode(error, 'core.media_failed');
        }
        post({ type: 'media-result', id: message.id, source });
        break;
      }
      case 'close':
        inBackground('core.close_failed', close);
        break;
    }
  });

  inBackground('core.start_failed', async () => {
    try {
      const options: ServiceOptions = {
        profileDir: init.profileDir,
        ...(init.kdfCost ? { kdfCost: init.kdfCost } : {}),
        ...(init.appVersion ? { appVersion: init.appVersion } : {}),
        ...(init.sync === undefined ? {} : { sync: init.sync }),
        ...(keychain ? { keychain } : {}),
      };
      service = await create(options);
      service.onEvent((name, payload) => post({ type: 'event', name, payload }));
      post({ type: 'ready' });
    } catch (error) {
      post({ type: 'start-failed', code: failureCode(error, 'core.start_failed') });
      port.close();
    }
  });
}
