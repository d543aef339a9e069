// Starting the core's worker thread: from the built bundle, or from source
// through tsx (tests, the e2e bridge, benchmarks), and waiting for its
// CoreService. Used by CoreHost for the first start and for restarts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SottoError } from '../core/errors.ts';
import type { CoreWorkerInit, WorkerToHost } from './core-protocol.ts';

/** The worker entry next to this module: built JavaScript, or the TypeScript source under tsx. */
export function defaultWorkerUrl(): URL {
  // From source this module is core-worker-spawn.ts; bundled, it is inside out/main/index.js.
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./core-worker.${extension}`, import.meta.url);
}

/** tsx's ESM API, resolved from this package (a worker's bare imports resolve from the cwd). */
function tsxApiUrl(): string {
  const packageJson = createRequire(import.meta.url).resolve('tsx/package.json');
  const exportsMap = (
    JSON.parse(readFileSync(packageJson, 'utf8')) as {
      exports: Record<string, { import: { default: string } }>;
    }
  ).exports;
  const api = exportsMap['./esm/api'];
  if (!api) throw new Error('tsx has no ./esm/api export');
  return pathToFileURL(join(dirname(packageJson), api.import.default)).href;
}

/** Starts the core worker thread from `url` with `init` as its workerData. */
export function spawnWorker(url: URL, init: CoreWorkerInit): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData: init });
  // Node 20 does not apply module hooks to a worker's entry (not even with
  // `--import tsx` in execArgv): register tsx inside the worker, then import.
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: init, execArgv: [] });
}

/**
 * Resolves once `worker`'s CoreService exists; otherwise terminates it and
 * rejects with the service's error code (INTERNAL for anything else).
 */
export async function workerReady(worker: Worker): Promise<void> {
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (message: WorkerToHost): void => {
      if (message.type === 'ready') resolve();
      else if (message.type === 'start-failed') reject(new SottoError(message.code));
    };
    worker.on('message', onMessage);
    worker.once('error', (error) => reject(error));
    worker.once('exit', () =>
      reject(new SottoError('INTERNAL', 'core worker exited during start')),
    );
  });
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error instanceof SottoError
      ? error
      : new SottoError('INTERNAL', 'core worker failed to start', { cause: error });
  }
}
