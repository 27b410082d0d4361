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

const FEATURES = ['pilot', 'risk-api', 'commands'];
const ROOT = '^(\\.\\.?/)+(main|serve|cli|index|payflux-operators)\\.js$';
/** @param {string[]} names */
const folders = (names) => `^(\\.\\.?/)+(${names.join('|')})/`;

/**
 * Files matching `files` may not import the folders in `forbidden` (nor the composition root);
 * `typesFrom` folders only as types.
 * @param {string} files
 * @param {string[]} forbidden
 * @param {{ typesFrom?: string[], only?: boolean }} [options]  `only`: none of the composition root's exemptions
 */
function layer(files, forbidden, { typesFrom = [], only = false } = {}) {
  const message = `${files}: see the layering in docs/architecture.md`;
  const hard = forbidden.filter((f) => !typesFrom.includes(f));
  return [
    {
      files: [files],
      ignores: only
        ? []
        : ['src/main.ts', 'src/serve.ts', 'src/cli.ts', 'src/index.ts', 'src/payflux-operators.ts', 'src/metrics.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              { regex: hard.length > 0 ? `${folders(hard)}|${ROOT}` : ROOT, message },
              ...(typesFrom.length > 0
                ? [
                    {
                      regex: folders(typesFrom),
                      allowTypeImports: true,
                      message: `${message} (types only)`,
                    },
                  ]
                : []),
            ],
          },
        ],
      },
    },
  ];
}

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
  // The layering: stages never import features, features never import each other, and only the
  // composition root (main.ts, serve.ts, cli.ts, index.ts) knows every folder. docs/architecture.md
  // draws it.
  ...layer('src/*.ts', ['http', 'buffer', 'sources', 'sinks', 'pipeline', ...FEATURES], { typesFrom: ['operators'] }),
  // metrics.ts names every stage's label values (deny reasons, destinations, …), never a feature's.
  ...layer('src/metrics.ts', FEATURES, { only: true }),
  ...layer('src/events/**/*.ts', ['http', 'buffer', 'sources', 'operators', 'sinks', 'pipeline', ...FEATURES]),
  ...layer('src/buffer/**/*.ts', ['http', 'sources', 'operators', 'sinks', 'pipeline', ...FEATURES]),
  ...layer('src/sinks/**/*.ts', ['http', 'buffer', 'sources', ...FEATURES]),
  ...layer('src/sources/**/*.ts', ['http', 'sinks', ...FEATURES]),
  ...layer('src/http/**/*.ts', ['sources', 'pipeline', 'operators', 'sinks', ...FEATURES], {
    typesFrom: ['pipeline', 'operators', 'sinks'],
  }),
  ...layer('src/pipeline/**/*.ts', ['http', ...FEATURES]),
  ...layer('src/pilot/**/*.ts', ['risk-api', 'commands']),
  ...layer('src/risk-api/**/*.ts', ['pilot', 'commands', 'operators', 'pipeline', 'sinks', 'sources']),
  ...layer('src/commands/**/*.ts', ['pilot', 'risk-api', 'http']),
  {
    files: ['src/operators/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IO_LIBS.map((name) => ({ name, message: 'operators are pure: no I/O libraries' })),
          patterns: [
            {
              group: [
                ...['config', 'metrics', 'main', 'serve', 'cli', 'logger'].map((m) => `**/${m}.js`),
                '**/events/validate-event.js',
                ...['http', 'buffer', 'sources', 'sinks', ...FEATURES].map((f) => `**/${f}/**`),
              ],
              message: 'operators import only rxjs, pipeline/ types, events/, risk-terms, stream-id and errors',
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
