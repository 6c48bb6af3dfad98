const { PLUGIN_FILES } = require('./tools/swagger-plugin');

const TYPE_CHECKED_TEST = '/test/contract/typed-client\\.e2e\\.spec\\.ts$';

/** Per-project options shared by both projects. */
const shared = {
  rootDir: __dirname,
  // Keeps each test's app log lines and child-process output in memory; printed only when the test fails
  // (TEST_LOGS=1: as they come).
  testEnvironment: '<rootDir>/test/support/quiet-logs-environment.js',
  setupFilesAfterEnv: ['<rootDir>/test/support/setup-logs.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    // Controllers, DTOs and views also get the OpenAPI metadata of the Nest build's swagger plugin, which needs the
    // type checker: they are compiled as a program. Type errors fail only the typed-client test, whose point is
    // that the generated client types refuse what the API does not allow (elsewhere: `npm run typecheck`).
    [`${PLUGIN_FILES}|${TYPE_CHECKED_TEST}`]: [
      '<rootDir>/tools/ts-jest-program.js',
      {
        // tsconfig.json with isolatedModules off: ts-jest compiles per file (no type checker) when it is on.
        tsconfig: { ...require('./tsconfig.json').compilerOptions, isolatedModules: false },
        diagnostics: { pathRegex: TYPE_CHECKED_TEST },
        astTransformers: {
          before: ['<rootDir>/tools/log-callsite-transformer.js', '<rootDir>/tools/swagger-plugin.js'],
        },
      },
    ],
    '^.+\\.ts$': [
      'ts-jest',
      {
        // Transpile only: tsconfig.json sets isolatedModules (types are checked by `npm run typecheck`).
        tsconfig: 'tsconfig.json',
        // Compile-time log call sites (the `source` field of a log line), as in the Nest build (nest-cli.json plugins).
        astTransformers: { before: ['<rootDir>/tools/log-callsite-transformer.js'] },
      },
    ],
  },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    // No database server: `npm run test:unit` (--selectProjects unit) runs these without PostgreSQL.
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'db',
      testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/src/**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/unit/'],
      // The migrated template database each test file clones; runs only when a test of this project does.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js', '<rootDir>/test/contract/contract-reporter.js'],
  testTimeout: 60000,
  maxWorkers: 2,
  // Each test file leaves its module registry behind (~40 MB) on Node 20 with --experimental-vm-modules (needed by
  // PGlite's dynamic import): vm scripts keep Jest's importModuleDynamically callback alive. Measured with --expose-gc
  // --logHeapUsage; a heap snapshot shows every earlier Runtime retained from Node's own script cleanup queue. A worker
  // that reached 1.4 GB took over 500 ms to exit at the end on a loaded machine, and Jest reported it as "failed to
  // exit gracefully". Recycling a worker once its heap passes this keeps each one small.
  workerIdleMemoryLimit: '512MB',
};
