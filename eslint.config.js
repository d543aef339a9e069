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

// SQL belongs to the core's domain modules (docs/architecture.md#the-core-owns-its-data):
// everywhere else in electron/ a statement is a named function of the module that owns the table.
const SQL_MODULES =
  'electron/core/{db,history,contacts,messaging,groups,crypto,profile,backup,keys,sync,attachments}/**';
const SQL_MESSAGE =
  'SQL lives in electron/core/{db,history,contacts,messaging,groups,crypto,profile,backup,keys,sync,attachments}: call a named function of the module that owns the table.';
/** The SQL rule: no database module, no statement. @param {string[]} groups @param {string} message */
const forbidSql = (groups, message) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: '@signalapp/sqlcipher', message: SQL_MESSAGE }],
      patterns: [
        ...(groups.length > 0 ? [{ group: groups, message }] : []),
        { group: ['**/db/sqlite', '**/db/sqlite.ts', '**/core/db/sqlite*'], message: SQL_MESSAGE },
      ],
    },
  ],
  'no-restricted-syntax': [
    'error',
    {
      // `.exec` on a regular-expression literal is not SQL.
      selector:
        "CallExpression[callee.type='MemberExpression'][callee.property.name=/^(prepare|exec|pragma|transaction)$/]:not([callee.object.regex])",
      message: SQL_MESSAGE,
    },
  ],
});

const CORE_GROUPS = [
  'electron',
  'electron/*',
  '**/electron/main/**',
  '**/electron/preload/**',
  '**/electron/cli/**',
  '**/relay/**',
  '**/renderer/**',
  '!**/shared/**',
];
const CORE_MESSAGE =
  "electron/core is headless: no 'electron' module, and it imports only shared/.";

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      'test-artifacts/**',
      'bin/**',
      'build/**/*.mjs',
      // Preloads the bench puts into relay processes (plain Node, no TypeScript loader).
      'bench/**/*.mjs',
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
    rules: forbid(CORE_GROUPS, CORE_MESSAGE),
  },
  {
    files: ['electron/core/**/*.ts'],
    ignores: [SQL_MODULES],
    rules: forbidSql(CORE_GROUPS, CORE_MESSAGE),
  },
  {
    files: ['electron/cli/**/*.ts'],
    rules: forbidSql(
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
    rules: forbidSql(
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
