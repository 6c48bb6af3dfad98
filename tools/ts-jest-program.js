'use strict';
/**
 * ts-jest for the files the swagger plugin rewrites (tools/swagger-plugin.js), compiled as part of a program so
 * the plugin can ask the type checker; every other file stays on ts-jest's fast per-file path.
 *
 * Why a wrapper: ts-jest keeps one compiler per Jest config in a static cache and ignores the transformer's own
 * options when it looks one up, so a second `ts-jest` entry in `transform` would silently reuse the first entry's
 * (per-file) compiler. Handing ts-jest a copy of the config with its own `id` gives this entry its own compiler.
 */
const { TsJestTransformer } = require('ts-jest');

const copies = new WeakMap();

function ownConfig(options) {
  let config = copies.get(options.config);
  if (!config) {
    config = { ...options.config, id: `${options.config.id}:program` };
    copies.set(options.config, config);
  }
  return { ...options, config };
}

module.exports = {
  createTransformer(tsJestOptions) {
    const inner = new TsJestTransformer(tsJestOptions);
    return {
      canInstrument: false,
      getCacheKey: (source, file, options) => inner.getCacheKey(source, file, ownConfig(options)),
      getCacheKeyAsync: (source, file, options) => inner.getCacheKeyAsync(source, file, ownConfig(options)),
      process: (source, file, options) => inner.process(source, file, ownConfig(options)),
      processAsync: (source, file, options) => inner.processAsync(source, file, ownConfig(options)),
    };
  },
};
