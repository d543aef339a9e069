// The main thread's handle on the core: starts the core worker thread, validates
// every call against the IPC contract before the worker sees it, and relays
// results, push events and keychain requests. Imports no 'electron', so the
// Chromium test bridge and the benchmarks run it under plain Node too.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type EventName,
  type EventPayload,
  isMethodName,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  methods,
  type Result,
} from '../../shared/ipc/contract.ts';
import { isErrorCode, type ErrorCode } from '../../shared/errors.ts';
import { SottoError } from '../core/errors.ts';
import type { KeychainAdapter } from '../core/keys/keychain.ts';
import { log } from '../core/log.ts';
import type { CallContext, ServiceOptions } from '../core/service/types.ts';
import { inBackground } from './background.ts';
import type { CoreWorkerInit, HostToWorker, WorkerToHost } from './core-protocol.ts';

export interface CoreHostOptions extends ServiceOptions {
  /**
   * The worker entry. Default: `core-worker.js` next to the built main bundle,
   * or `core-worker.ts` when running from source (loaded through tsx).
   */
  readonly workerUrl?: URL;
}

/** Receives the core's push events. */
export type HostEventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** After the service closed, how long the worker may take to exit before it is terminated. */
const EXIT_GRACE_MS = 5_000;

const failure = (code: ErrorCode): Result<never> => ({ ok: false, code });

function defaultWorkerUrl(): URL {
  // From source this module is core-host.ts; bundled, it is inside out/main/index.js.
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./core-worker.${extension}`, import.meta.url);
}

/** tsx's ESM API, resolved from this package (a worker's bare imports resolve from the cwd). */
function tsxApiUrl(): string {
  const packageJson = createRequire(import.meta.url).resolve('tsx/package.json');
  const exportsMap = (JSON.parse(readFileSync(packageJson, 'utf8')) as { exports: Record<string, { import: { default: string } }> })
    .exports;
  const api = exportsMap['./esm/api'];
  if (!api) throw new Error('tsx has no ./esm/api export');
  return pathToFileURL(join(dirname(packageJson), api.import.default)).href;
}

function spawnWorker(url: URL, init: CoreWorkerInit): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData: init });
  // Node 20 does not apply module hooks to a worker's entry (not even with
  // `--import tsx` in execArgv): register tsx inside the worker, then import.
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: init, execArgv: [] });
}

/**
 * The core in a worker thread, behind the typed contract. `call` never throws:
 * every outcome is a `Result` carrying only a closed error code.
 */
export class CoreHost {
  readonly #worker: Worker;
  readonly #keychain: KeychainAdapter | undefined;
  readonly #pending = new Map<number, (result: Result<unknown>) => void>();
  readonly #listeners = new Set<HostEventListener>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  #state: 'open' | 'closing' | 'gone' = 'open';
  #serviceClosed: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker, keychain: KeychainAdapter | undefined) {
    this.#worker = worker;
    this.#keychain = keychain;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: WorkerToHost) => this.#onMessage(message));
    worker.on('error', (error) => {
      log.error('core.worker_error', error);
      this.#gone();
    });
    worker.once('exit', (code) => {
      if (this.#state === 'open') log.warn('core.worker_exit', { code });
      this.#gone();
    });
  }

  /** Starts the worker and resolves once its CoreService exists; rejects with the service's error code. */
  static async start(options: CoreHostOptions): Promise<CoreHost> {
    const init: CoreWorkerInit = {
      profileDir: options.profileDir,
      ...(options.kdfCost ? { kdfCost: options.kdfCost } : {}),
      ...(options.appVersion ? { appVersion: options.appVersion } : {}),
      ...(options.sync === undefined ? {} : { sync: options.sync }),
      keychain: options.keychain ? { backend: options.keychain.backend, isSecure: options.keychain.isSecure } : null,
    };
    const worker = spawnWorker(options.workerUrl ?? defaultWorkerUrl(), init);
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: WorkerToHost): void => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'start-failed') reject(new SottoError(message.code));
      };
      worker.on('message', onMessage);
      worker.once('error', (error) => reject(error));
      worker.once('exit', () => reject(new SottoError('INTERNAL', 'core worker exited during start')));
    });
    const host = new CoreHost(worker, options.keychain);
    try {
      await ready;
    } catch (error) {
      await worker.terminate();
      throw error instanceof SottoError ? error : new SottoError('INTERNAL', 'core worker failed to start', { cause: error });
    }
    return host;
  }

  /**
   * Calls a contract method. Unknown methods and inputs that fail the schema
   * are INVALID_INPUT. `context` is what the trusted caller adds (the file the
   * user chose for a file method); it never comes from the renderer.
   */
  call<M extends MethodName>(method: M, input: MethodInput<M>, context?: CallContext): Promise<Result<MethodOutput<M>>>;
  call(method: string, rawInput: unknown, context?: CallContext): Promise<Result<unknown>>;
  call(method: string, rawInput: unknown, context: CallContext = {}): Promise<Result<unknown>> {
    if (!isMethodName(method)) return Promise.resolve(failure('INVALID_INPUT'));
    const parsed = methods[method].input.safeParse(rawInput);
    if (!parsed.success) return Promise.resolve(failure('INVALID_INPUT'));
    if (this.#state !== 'open') return Promise.resolve(failure(this.#state === 'closing' ? 'CANCELLED' : 'INTERNAL'));
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#post({ type: 'call', id, method, input: parsed.data, context: { ...(context.file === undefined ? {} : { file: context.file }) } });
    });
  }

  /** Subscribes to the core's push events; returns the unsubscribe function. */
  onEvent(listener: HostEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Closes the service (it finishes calls already sent) and waits for the
   * worker to exit. Never terminates a worker whose database may still be
   * open: killing SQLCipher mid-statement aborts the whole process.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#state === 'gone') return;
    this.#state = 'closing';
    const serviceClosed = new Promise<void>((resolve) => (this.#serviceClosed = resolve));
    this.#post({ type: 'close' });
    await Promise.race([serviceClosed, this.#exited]);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), EXIT_GRACE_MS)));
    const outcome = await Promise.race([this.#exited, grace]);
    clearTimeout(timer);
    if (outcome === 'late') await this.#worker.terminate();
  }

  #post(message: HostToWorker): void {
    this.#worker.postMessage(message);
  }

  #onMessage(message: WorkerToHost): void {
    switch (message.type) {
      case 'result': {
        const resolve = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        resolve?.(message.result);
        break;
      }
      case 'event':
        for (const listener of this.#listeners) {
          try {
            listener(message.name, message.payload as never);
          } catch (error) {
            log.error('core.event_listener_failed', error);
          }
        }
        break;
      case 'keychain':
        inBackground('core.keychain_failed', () => this.#keychainRequest(message));
        break;
      case 'closed':
        this.#serviceClosed?.();
        break;
      case 'ready':
      case 'start-failed':
        break; // handled by start()
    }
  }

  async #keychainRequest(request: Extract<WorkerToHost, { type: 'keychain' }>): Promise<void> {
    try {
      if (!this.#keychain) throw new SottoError('KEYCHAIN_UNAVAILABLE');
      const value =
        request.op === 'encrypt' ? await this.#keychain.encrypt(request.data) : await this.#keychain.decrypt(request.data);
      this.#post({ type: 'keychain-reply', id: request.id, ok: true, value });
    } catch (error) {
      // The core decides what a failed unwrap means (KEYCHAIN_UNAVAILABLE); no detail crosses over.
      const code = error instanceof SottoError && isErrorCode(error.code) ? error.code : null;
      this.#post({ type: 'keychain-reply', id: request.id, ok: false, code });
    }
  }

  #gone(): void {
    this.#state = 'gone';
    this.#serviceClosed?.();
    for (const resolve of this.#pending.values()) resolve(failure('INTERNAL'));
    this.#pending.clear();
  }
}
