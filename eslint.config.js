// @ts-check
// Lint config. The import-boundary rules below are the architecture's "who may
// import what" (docs/architecture.md): a wrong import is a lint error, not a review note.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

/** @param {string[]} groups @param {string} message */
const forbid = (groups, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: groups, message }] }],
});

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      'test-artifacts/**',
      'bin/**',
      'build/**/*.mjs',
      '.scratch/**',
      'relay-data/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...pluginVue.configs['flat/recommended'],
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.vue'],
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.vue'],
    languageOptions: {
      parser: vueParser,
      parserOptions: {
        parser: tseslint.parser,
        projectService: true,
        extraFileExtensions: ['.vue'],
      },
      globals: globals.browser,
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  // --- import boundaries -------------------------------------------------
  {
    files: ['shared/**/*.ts'],
    rules: forbid(
      // '../relay/**' from inside shared/ is shared/relay (the wire protocol), not the relay server.
      ['**/electron/**', '**/relay/**', '!../relay/**', '**/renderer/**', 'electron', 'node:*'],
      'shared/ is environment-free: it imports nothing of ours and no Node or Electron API.',
    ),
  },
  {
    files: ['electron/core/**/*.ts'],
    rules: forbid(
      [
        'electron',
        'electron/*',
        '**/electron/main/**',
        '**/electron/preload/**',
        '**/electron/cli/**',
        '**/relay/**',
        '**/renderer/**',
        '!**/shared/**',
      ],
      "electron/core is headless: no 'electron' module, and it imports only shared/.",
    ),
  },
  {
    files: ['electron/cli/**/*.ts'],
    rules: forbid(
      [
        'electron',
        'electron/*',
        '**/electron/main/**',
        '**/electron/preload/**',
        '**/relay/**',
        '**/renderer/**',
        '!**/shared/**',
      ],
      'the CLI runs without Electron: it imports core and shared only.',
    ),
  },
  {
    files: ['electron/main/**/*.ts', 'electron/preload/**/*.ts'],
    rules: forbid(
      ['**/relay/**', '**/renderer/**', '**/electron/cli/**', '!**/shared/**'],
      'main and preload import core and shared only.',
    ),
  },
  {
    files: ['relay/**/*.ts'],
    rules: forbid(
      ['**/electron/**', 'electron', '**/renderer/**'],
      'the relay knows the wire protocol (shared/) only.',
    ),
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.vue'],
    rules: forbid(
      [
        '**/electron/core/**',
        '**/electron/main/**',
        '**/electron/cli/**',
        '**/relay/**',
        '!**/shared/**',
        'electron',
        'node:*',
      ],
      'the renderer is untrusted web content: it reaches the core only through src/bridge.ts.',
    ),
  },
  {
    files: ['tests/**/*.ts', 'bench/**/*.ts', 'electron/cli/**/*.ts', 'relay/cli.ts'],
    rules: { 'no-console': 'off' },
  },
  prettier,
);
