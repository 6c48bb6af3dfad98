const { PLUGIN_FILES } = require('./tools/swagger-plugin');

const TYPE_CHECKED_TEST = '/test/contract/typed-client\\.e2e\\.spec\\.ts$';

/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/src/**/*.spec.ts'],
  transform: {
    // Controllers, DTOs and views also get the OpenAPI metadata of the Nest build's swagger plugin, which needs the
    // type checker: they are compiled as a program. Type errors fail only the typed-client test, whose point is
    // that the generated client types refuse what the API does not allow (elsewhere: `npm run typecheck`).
    [`${PLUGIN_FILES}|${TYPE_CHECKED_TEST}`]: [
      '<rootDir>/tools/ts-jest-program.js',
      {
        tsconfig: 'tsconfig.json',
        diagnostics: { pathRegex: TYPE_CHECKED_TEST },
        astTransformers: {
          before: ['<rootDir>/tools/log-callsite-transformer.js', '<rootDir>/tools/swagger-plugin.js'],
        },
      },
    ],
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: 'tsconfig.json',
        isolatedModules: true,
        // Compile-time log call sites (SPEC §2 `source`), as in the Nest build (nest-cli.json plugins).
        astTransformers: { before: ['<rootDir>/tools/log-callsite-transformer.js'] },
      },
    ],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js', '<rootDir>/test/contract/contract-reporter.js'],
  testTimeout: 60000,
  maxWorkers: 2,
  // Open handles from a failed test must not hang CI.
  forceExit: true,
};
