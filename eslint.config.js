// @ts-check
/**
 * Lint: typescript-eslint's strict, type-checked rules over the server, the tests and the
 * tooling; import cycles reported (import-x); the browser JavaScript without type information
 * (tsconfig.browser.json type-checks it). Formatting is prettier's (`npm run format`), not lint's.
 * Where a rule is off or relaxed, the reason is beside it.
 */
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // A disable comment that no longer silences anything is an error: exceptions do not outlive their reason.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  { ignores: ['node_modules/**', 'dist/**', 'provider/src/storage/generated/**', 'test-artifacts/**', 'coverage/**', '.saoma/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      'import-x/no-cycle': 'error',
      // Numbers and booleans in template strings are what log lines and messages are made of.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      // `x!` after a check the compiler cannot follow (a Map lookup just set, a regex group that matched).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Express 5 handles a rejected promise from a handler: async handlers are the idiom.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      // `void promise` marks a deliberate fire-and-forget (audit, best-effort cleanup).
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidOperator: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Passing on a caught `unknown` (`reject(err)` in a catch) is `throw err`, which only-throw-error allows by default.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // openid-client and oauth4webapi mark allowInsecureRequests deprecated "only to make it stand out": the demo
      // and the tests talk to a provider on http://localhost.
      '@typescript-eslint/no-deprecated': [
        'error',
        {
          allow: [
            { from: 'package', package: 'openid-client', name: 'allowInsecureRequests' },
            { from: 'package', package: 'oauth4webapi', name: 'allowInsecureRequests' },
          ],
        },
      ],
      // The input validators refuse control characters by naming them (`[^\u0000-\u001f\u007f]`): that is the point.
      'no-control-regex': 'off',
    },
  },
  {
    // The tests poke at answers whose shape they are asserting: `any` there is the point.
    files: ['test/**/*.ts', '**/*.test.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Browser JavaScript and config files: no type information here (tsconfig.browser.json checks the types).
    files: ['**/*.js', '**/*.mjs', 'provider/public/**/*.d.ts'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        window: 'readonly',
        document: 'readonly',
        console: 'readonly',
        location: 'readonly',
        navigator: 'readonly',
        fetch: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        localStorage: 'readonly',
        history: 'readonly',
        performance: 'readonly',
        DOMParser: 'readonly',
        EventSource: 'readonly',
        Request: 'readonly',
        Response: 'readonly',
        caches: 'readonly',
        self: 'readonly',
        BarcodeDetector: 'readonly',
        Intl: 'readonly',
        requestAnimationFrame: 'readonly',
        cancelAnimationFrame: 'readonly',
        Image: 'readonly',
        HTMLElement: 'readonly',
        Node: 'readonly',
        Blob: 'readonly',
        FileReader: 'readonly',
        createImageBitmap: 'readonly',
        matchMedia: 'readonly',
        getComputedStyle: 'readonly',
        MutationObserver: 'readonly',
        process: 'readonly',
        Element: 'readonly',
        sessionStorage: 'readonly',
        FormData: 'readonly',
      },
    },
  },
);
