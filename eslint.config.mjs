// Lint: typescript-eslint's type-checked rules, the layout's import boundaries, and no formatting (Prettier's job).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SPECS = ['**/*.spec.ts'];
const TESTS = [...SPECS, 'test/**'];
const WIRING = ['src/main.ts', 'src/processes/**', 'src/cli/**'];

/** test/ is never built: nothing else imports it, so nothing of it reaches dist/. */
const TEST_ONLY = { target: '.', from: './test', message: 'test/ is test-only: only specs and test support import it.' };

/** A later block's no-restricted-paths replaces an earlier one's, so each file set lists every zone that applies to it. */
const zones = (...more) => ({ 'import-x/no-restricted-paths': ['error', { zones: [TEST_ONLY, ...more] }] });

export default defineConfig(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'packages/client/src/generated/**', 'bench/emmett-baseline/**'],
  },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked, importX.flatConfigs.recommended, importX.flatConfigs.typescript],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': 'error',
      // A parameter kept for its decorator (@Query) or a signature starts with _; so does a key left out of a rest copy.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // A projection's handlers are keyed by event type, each with its own event and document types: the registry holds any of them.
    files: ['read-model/projector/projection.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  // Import boundaries of production code. Specs are exempt: end-to-end tests drive the whole system.
  {
    // packages/client/scripts too: the generator is a repository script (ts-node, never built or packed) that builds
    // the APIs' documents with the specs' stand-ins (test/support/openapi-documents).
    files: ['**/*.ts'],
    ignores: [...TESTS, 'packages/client/scripts/**'],
    rules: zones(),
  },
  {
    files: ['read-model/**/*.ts'],
    ignores: SPECS,
    rules: zones({
      target: './read-model',
      from: './write-model',
      message: 'The read side never imports the write side: share through src/contracts.',
    }),
  },
  {
    files: ['write-model/**/*.ts'],
    ignores: SPECS,
    rules: zones({
      target: './write-model',
      from: './read-model',
      message: 'The write side never imports the read side: share through src/contracts.',
    }),
  },
  {
    // src/ is the shared kernel; only the wiring (process entry points, CLI verbs) composes the two sides.
    files: ['src/**/*.ts'],
    ignores: [...SPECS, ...WIRING],
    rules: zones({
      target: './src',
      from: ['./write-model', './read-model'],
      message: 'src/ is the shared kernel: only src/main.ts, src/processes/ and src/cli/ import write-model/ or read-model/.',
    }),
  },

  {
    files: TESTS,
    rules: {
      // Specs and test support read JSON bodies, rows and OpenAPI documents as any: their shape is what is under test.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Doubles and case tables implement async signatures with nothing to await; async keeps a throw a rejection.
      '@typescript-eslint/require-await': 'off',
    },
  },
  prettier,
);
