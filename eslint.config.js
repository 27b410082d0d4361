// ESLint flat config: typed rules, RxJS rules, and the layering of STYLE.md as import restrictions.
// Circular imports are checked by scripts/check-cycles.mjs (part of `npm run lint`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import rxjsX from 'eslint-plugin-rxjs-x';

const IO_LIBS = [
  'ioredis',
  'fastify',
  'node:fs',
  'fs',
  'node:fs/promises',
  'pino',
  'prom-client',
  'undici',
  'node:http',
  'node:net',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'scripts/**',
      'bench/**/*.mjs',
      'test-results/**',
      'public/**',
      'bench/**/*.js',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'rxjs-x': rxjsX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify plugins and interface implementations are async by contract, awaiting or not.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'rxjs-x/no-ignored-subscription': 'off',
      'rxjs-x/no-unsafe-takeuntil': 'error',
      'rxjs-x/no-nested-subscribe': 'error',
      'rxjs-x/no-subject-unsubscribe': 'error',
      'rxjs-x/finnish': [
        'error',
        {
          functions: false,
          methods: false,
          parameters: false,
          properties: false,
          variables: true,
          types: { '^(Mono[A-Za-z]*)?OperatorFunction$': false },
        },
      ],
    },
  },
  {
    files: ['src/operators/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IO_LIBS.map((name) => ({ name, message: 'operators are pure: no I/O libraries (STYLE.md)' })),
          patterns: [
            {
              group: [
                '**/config.js',
                '**/sources/**',
                '**/sinks/**',
                '**/http/**',
                '**/buffer/**',
                '**/main.js',
                '**/metrics.js',
              ],
              message: 'operators import only rxjs, pipeline/ types, events.ts and errors.ts',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config.ts', 'src/main.ts', 'src/cli.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'only config.ts, main.ts and cli.ts read the environment' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'rxjs-x/finnish': 'off',
    },
  },
);
