'use strict';
/**
 * ts-jest for the files the swagger plugin rewrites (tools/swagger-plugin.js), compiled as part of a program so
 * the plugin can ask the type checker; every other file stays on ts-jest's fast per-file path.
 *
 * Why a wrapper: ts-jest keeps one compiler per Jest config in a static cache and ignores the transformer's own
 * options when it looks one up, so a second `ts-jest` entry in `transform` would silently reuse the first entry's
 * (per-file) compiler. Handing ts-jest a copy of the config with its own `id` gives this entry its own compiler.
 *
 * Why its own cache key: without isolatedModules, ts-jest's key lists each file's resolved imports, which it asks a
 * TypeScript language service for, so every fresh Jest worker parsed and bound the whole program (3–4 s of CPU per
 * test file that loads the app) before it could even look in the cache. What the plugin writes into a file
 * depends on the types it reads from other files, so this key covers the file and every source file under `src/`
 * (hashed once per process), the transformer options, and the compiler, plugin and transformer versions: any source
 * change compiles these files again, and a warm cache needs no TypeScript at all. The type-checked test
 * (`diagnostics.pathRegex`) keeps ts-jest's own key: its errors depend on files outside `src/` too.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
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

const treeHashes = new Map();

/** One hash of every .ts file under `src/`, the tools that transform them, and the compiler stack's versions. */
function sourceTreeHash(rootDir) {
  let hash = treeHashes.get(rootDir);
  if (hash) return hash;
  const h = createHash('sha1');
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) h.update(`${full}\0`).update(fs.readFileSync(full));
    }
  };
  walk(path.join(rootDir, 'src'));
  for (const tool of ['swagger-plugin.js', 'log-callsite-transformer.js', 'ts-jest-program.js'])
    h.update(fs.readFileSync(path.join(__dirname, tool)));
  for (const pkg of ['typescript', 'ts-jest', '@nestjs/swagger'])
    h.update(`${pkg}@${require(`${pkg}/package.json`).version}\0`);
  h.update(fs.readFileSync(path.join(rootDir, 'tsconfig.json')));
  hash = h.digest('hex');
  treeHashes.set(rootDir, hash);
  return hash;
}

module.exports = {
  createTransformer(tsJestOptions) {
    const inner = new TsJestTransformer(tsJestOptions);
    const typeChecked = new RegExp(tsJestOptions?.diagnostics?.pathRegex ?? '(?!)');
    const optionsText = JSON.stringify(tsJestOptions ?? {});
    const cacheKey = (source, file, options) => {
      if (typeChecked.test(file)) return inner.getCacheKey(source, file, ownConfig(options));
      return createHash('sha1')
        .update(sourceTreeHash(options.config.rootDir))
        .update(`\0${optionsText}\0${file}\0${options.instrument ? 1 : 0}${options.supportsStaticESM ? 1 : 0}\0`)
        .update(source)
        .digest('hex');
    };
    return {
      canInstrument: false,
      getCacheKey: cacheKey,
      getCacheKeyAsync: async (source, file, options) => cacheKey(source, file, options),
      process: (source, file, options) => inner.process(source, file, ownConfig(options)),
      processAsync: (source, file, options) => inner.processAsync(source, file, ownConfig(options)),
    };
  },
};
