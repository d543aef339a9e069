#!/usr/bin/env node
// Builds the two Node programs to plain JavaScript, so neither needs a
// TypeScript loader at run time (a loader cost `sotto --help` 1.5 s idle):
//
//   out/cli/sotto.js          `sotto`        (bin/sotto.js runs it)
//   out/relay/cli.js          `sotto-relay`  (bin/sotto-relay.js runs it)
//   out/relay/storage-worker.js  the relay's storage thread (relay/worker-storage.ts
//                             loads it from beside itself)
//
// One esbuild bundle per program, ES modules, code splitting: the CLI's
// command actions are `import()`ed when they run, so each becomes its own
// chunk and `--help` loads none of them. npm packages stay external (native
// modules must load from node_modules). Run by `npm run build:cli`, by `npm ci`
// (the `prepare` script) and once before the integration and e2e tests
// (tests/support/build-setup.ts). Electron's own build (electron-vite) is separate.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What gets built: output directory → entry points (output name → source). */
const PROGRAMS = {
  'out/cli': { sotto: 'electron/cli/main.ts' },
  'out/relay': { cli: 'relay/cli.ts', 'storage-worker': 'relay/storage-worker.ts' },
};

// A CLI process loads its action chunk after start-up (and a long `listen`
// never again): chunks replaced by a rebuild are deleted only once they are
// this old, so a process started from the previous build can still load its own.
const STALE_CHUNK_MS = 10 * 60 * 1000;

/** Builds one program into `outdir`; returns the files written (relative to ROOT). */
async function buildProgram(outdir, entryPoints) {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(
      Object.entries(entryPoints).map(([name, source]) => [name, join(ROOT, source)]),
    ),
    outdir: join(ROOT, outdir),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    sourcemap: 'linked',
    // Chunks sit beside the entries: relative URLs (import.meta.url) mean the same from either.
    chunkNames: '[name]-[hash]',
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  const written = new Set();
  // Chunks first, entries last: a process starting mid-build loads either the
  // old entry (whose chunks are still there) or the new one (whose chunks are).
  const isEntry = (path) =>
    Object.keys(entryPoints).some((name) => path === join(ROOT, outdir, `${name}.js`));
  const files = [...result.outputFiles].sort(
    (a, b) => Number(isEntry(a.path)) - Number(isEntry(b.path)),
  );
  await mkdir(join(ROOT, outdir), { recursive: true });
  for (const file of files) {
    written.add(file.path);
    await writeAtomically(file.path, file.contents);
  }
  await pruneStale(join(ROOT, outdir), written);
  return [...written].map((path) => relative(ROOT, path));
}

/** Replaces `path` with `contents` by a rename (a reader never sees half a file); unchanged files are left alone. */
async function writeAtomically(path, contents) {
  const old = await readFile(path).catch(() => undefined);
  if (old !== undefined && Buffer.compare(old, contents) === 0) return;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}

/** Deletes files of earlier builds that this one did not write, once they are old enough to be unused. */
async function pruneStale(outdir, written) {
  const now = Date.now();
  for (const name of await readdir(outdir)) {
    const path = join(outdir, name);
    if (written.has(path)) continue;
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && now - info.mtimeMs > STALE_CHUNK_MS) await rm(path, { force: true });
  }
}

/** Builds `sotto` and `sotto-relay` into out/; returns the files written. */
export async function buildCli() {
  const files = [];
  for (const [outdir, entryPoints] of Object.entries(PROGRAMS))
    files.push(...(await buildProgram(outdir, entryPoints)));
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const files = await buildCli();
  process.stdout.write(
    `built sotto and sotto-relay: ${files.filter((f) => f.endsWith('.js')).length} files in out/cli and out/relay (${Date.now() - started} ms)\n`,
  );
}
