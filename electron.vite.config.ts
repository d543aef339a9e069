import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

// One entry per process, matching the folder layout (docs/architecture.md).
export default defineConfig({
  main: {
    build: {
      // Two entries: the main process, and the core's worker thread that
      // CoreHost starts from out/main/core-worker.js (electron/main/core-host.ts).
      lib: {
        entry: {
          index: resolve(import.meta.dirname, 'electron/main/index.ts'),
          'core-worker': resolve(import.meta.dirname, 'electron/main/core-worker.ts'),
        },
      },
      rollupOptions: {
        // Native modules load from node_modules (unpacked from the ASAR, electron-builder.yml).
        external: ['@signalapp/libsignal-client', '@signalapp/sqlcipher', '@node-rs/argon2'],
      },
    },
  },
  preload: {
    build: {
      lib: { entry: resolve(import.meta.dirname, 'electron/preload/index.ts') },
      // Sandboxed preloads cannot be ES modules.
      rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'renderer'),
    build: {
      rollupOptions: { input: resolve(import.meta.dirname, 'renderer/index.html') },
    },
    // vue-i18n's feature flags: Composition API only, no devtools hooks in production.
    define: {
      __VUE_I18N_FULL_INSTALL__: 'true',
      __VUE_I18N_LEGACY_API__: 'false',
      __INTLIFY_PROD_DEVTOOLS__: 'false',
    },
    plugins: [vue()],
  },
});
