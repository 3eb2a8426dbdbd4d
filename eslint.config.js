// ESLint: the architecture's rules as checks (README "Architecture"), and the type-aware rules that
// catch lost promises. Type-aware rules run on the product (src/, screens/) only, with the one
// program of tsconfig.build.json (src, screens, types): they need the type checker, which
// `npm run typecheck` runs over everything anyway, and lint must stay fast (scripts/lint.sh).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Import paths a layer may not use: a regex over the specifier as written. */
const forbid = (...rules) => ['error', { patterns: rules.map(([regex, message]) => ({ regex, message })) }];
const SCREENS = ['(^|/)screens/', 'the engine (src/) never imports the TUI (screens/): pass what it needs in'];
const CLI = ['(^|/)cli/', 'only src/cli/ uses src/cli/: move shared code to a module both can use (e.g. src/format/)'];
const SRC_CLI = ['(^|/)src/cli/', 'the TUI never imports the CLI: both use the engine (src/)'];
const BLESSED = ['^blessed(-contrib)?$', 'blessed belongs to the TUI (screens/)'];

export default defineConfig([
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/lint/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // `void promise` marks a promise that is deliberately not awaited (no-floating-promises)
      'no-void': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-control-regex': 'off',
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // names with invisible characters are documented in comments (e.g. a zero-width space)
      'no-irregular-whitespace': ['error', { skipComments: true }],
      // `for (…) (cond ? a() : b())` is the house way to pick one of two calls
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
    },
  },
  {
    files: ['src/**/*.ts', 'screens/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.build.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      // an AbortSignal's reason is `any`: rethrowing it as it came is right
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // The one place the process ends: src/cli/bin.ts (below).
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'exit',
          message: 'only src/cli/bin.ts ends the process: return an outcome instead',
        },
      ],
    },
  },
  // Boundaries (README "Architecture"): engine -> nothing above it; CLI and TUI -> engine only.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-restricted-imports': forbid(SCREENS, CLI, BLESSED) },
  },
  // src/cli/bin.ts is the composition root: the one module that may load the TUI (lazily).
  {
    files: ['src/cli/**/*.ts'],
    ignores: ['src/cli/bin.ts'],
    rules: { 'no-restricted-imports': forbid(SCREENS, BLESSED) },
  },
  { files: ['src/cli/bin.ts'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['screens/**/*.ts'], rules: { 'no-restricted-imports': forbid(SRC_CLI) } },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', 'no-regex-spaces': 'off' },
  },
  // blessed-contrib ships no types: its declaration is the one allowed `any`
  { files: ['types/**/*.d.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    files: ['**/*.js', '**/*.mjs'],
    // Node's globals that the plain JS files use (the bench children, scripts)
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'URL',
          'AbortController',
          'performance',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  prettier,
]);
