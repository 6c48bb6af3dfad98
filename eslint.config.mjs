// @ts-check
/**
 * The guard rails that keep the architecture as README "Architecture" describes it. Every rule switched off or
 * narrowed is switched off here, in one place, with its reason.
 */
import eslint from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Top-level folders of src/: each is a module reached through its index.ts. */
const MODULES = [
  'api-docs',
  'approvals',
  'artifacts',
  'audit',
  'auth',
  'common',
  'config',
  'context',
  'dashboard',
  'database',
  'edge',
  'events',
  'health',
  'http',
  'jobs',
  'logging',
  'metrics',
  'openapi',
  'providers',
  'queue',
  'quotas',
  'scheduling',
  'secrets',
  'settings',
  'uploads',
];
// `common` and `database` are toolkits of small files meant to be imported one by one.
const INDEXED = MODULES.filter((m) => m !== 'common' && m !== 'database');

const deepImport = {
  regex: `^(\\.\\./)+(${INDEXED.join('|')})/.+`,
  message: 'Another module is reached through its index.ts (its public surface), not its files.',
};
// An entity names the entities of other modules it relates to; through an index it would load that whole module while
// its own decorators are still running.
const deepImportButEntities = { ...deepImport, regex: `^(\\.\\./)+(${INDEXED.join('|')})/(?!.*\\.entity$).+` };
const typeorm = {
  group: ['typeorm', 'typeorm/*', '@nestjs/typeorm'],
  message: 'SQL and TypeORM live in repositories (*.repository.ts), entities and database/ only.',
};

// Nest's own @Interval/@Cron/@Timeout would run outside the tick wrapper (no tick id, overlap, lease or listing).
const nestSchedule = {
  name: '@nestjs/schedule',
  importNames: ['Interval', 'Cron', 'Timeout'],
  message: 'Scheduled tasks use Interval/Cron from src/scheduling (the one tick path).',
};

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'coverage/**', 'data/**', 'client/**', 'test-results/**'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    // Resolves `../jobs` to jobs/index.ts, so no-cycle follows the imports the way Node loads them.
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Decorated Nest classes and DI parameter properties read as unused members to this rule's eyes.
      '@typescript-eslint/no-extraneous-class': 'off',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Small files and short methods in the service (README "Architecture"): past these, a file or a method holds
    // two things. The dashboard's components are JSX templates and are not held to the method length.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 60 }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [nestSchedule], patterns: [deepImport, typeorm] }] },
  },
  {
    // The places that may speak TypeORM: repositories, entities, the database toolkit, migrations, and module files
    // (TypeOrmModule.forFeature registers a module's own entities).
    files: ['src/**/*.repository.ts', 'src/database/**/*.ts', 'src/**/*.module.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [nestSchedule], patterns: [deepImport] }] },
  },
  {
    files: ['src/**/*.entity.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [nestSchedule], patterns: [deepImportButEntities] }] },
  },
  {
    // Tests, benches and tools drive the app from outside: they may reach into any file and any library.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'web/**/*.ts', 'web/**/*.tsx'],
    rules: {
      // Tests read loosely typed JSON bodies; asserting on `any` is what they do.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Fakes implement the app's async interfaces with bodies that have nothing to await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { ...globals.node, ...globals.jest },
    },
  },
  {
    // Jest's reporters, environments and the build's transformers are CommonJS files: require is how they import.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
