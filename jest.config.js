/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  // Keeps each test's app log lines and child-process output in memory; printed only when the test fails
  // (TEST_LOGS=1: as they come).
  testEnvironment: '<rootDir>/test/support/quiet-logs-environment.js',
  setupFilesAfterEnv: ['<rootDir>/test/support/setup-logs.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/src/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        // Transpile only: tsconfig.json sets isolatedModules (types are checked by `npm run typecheck`).
        tsconfig: 'tsconfig.json',
        // Compile-time log call sites (SPEC §2 `source`), as in the Nest build (nest-cli.json plugins).
        astTransformers: { before: ['<rootDir>/tools/log-callsite-transformer.js'] },
      },
    ],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  testTimeout: 60000,
  maxWorkers: 2,
};
