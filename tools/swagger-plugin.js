'use strict';
/**
 * The @nestjs/swagger compiler plugin with this project's options, in one place for both compilers: the Nest build
 * (nest-cli.json `plugins`, which calls `before(options, program)`) and ts-jest (jest.config.js `astTransformers`,
 * which calls `factory(compiler)`), so the tests read the same OpenAPI metadata as the built app.
 *
 * The plugin reads types through the type checker, so it needs a whole program: ts-jest compiles the files it
 * touches (controllers, DTOs, views) without isolatedModules.
 */
const OPTIONS = Object.freeze({
  // Request DTOs and response views; entities never reach the API.
  dtoFileNameSuffix: ['.dto.ts', '.view.ts'],
  controllerFileNameSuffix: ['.controller.ts'],
  classValidatorShim: true,
  introspectComments: true,
});

/** Files the plugin rewrites: ts-jest compiles these with a type checker (jest.config.js). */
const PLUGIN_FILES = '(\\.controller|\\.dto|\\.view)\\.ts$';

function before(_options, program) {
  // Required here, not at load: jest.config.js reads PLUGIN_FILES without loading the compiler.
  return require('@nestjs/swagger/plugin').before({ ...OPTIONS }, program);
}

module.exports = {
  before,
  PLUGIN_FILES,
  // ts-jest astTransformer interface; bump `version` when OPTIONS change (it is part of ts-jest's cache key).
  name: 'simpletuner-swagger-plugin',
  version: 1,
  factory: (compiler) => before(undefined, compiler.program),
};
