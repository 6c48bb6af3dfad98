'use strict';
/**
 * `node -r` hook for the service run from source in a child process (spawn-app.ts, the shutdown test): TypeScript
 * transpiled per file like ts-node's transpile-only mode, but kept on disk, keyed by the compiler's version and
 * options and the file's path and text. Transpiling the app costs a child about 6 s of CPU; every later child of
 * the run (and of later runs) reads the cached output instead, which is most of the process tests' time on a
 * loaded 2-core machine. Types are checked by `npm run typecheck`, as with transpile-only.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const ts = require('typescript');

const ROOT = path.join(__dirname, '..', '..');
const parsed = ts.getParsedCommandLineOfConfigFile(
  path.join(ROOT, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
// Inline source maps: a stack trace from the child names the .ts file and line, as under ts-node.
const options = {
  ...parsed.options,
  module: ts.ModuleKind.CommonJS,
  sourceMap: false,
  inlineSourceMap: true,
  inlineSources: false,
  declaration: false,
  noEmit: false,
};
const cacheDir = path.join(os.tmpdir(), `st-ts-cache-${os.userInfo().uid}`);
fs.mkdirSync(cacheDir, { recursive: true });
const salt = `${ts.version}\n${JSON.stringify(options)}\n`;

/** The transpiled text of `filename`, from the cache when it holds this very source. */
function transpiled(filename, source) {
  const key = createHash('sha256').update(salt).update(filename).update('\n').update(source).digest('hex');
  const file = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    const js = ts.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText;
    // Written aside then renamed: children started together never read a half-written file.
    const partial = `${file}.${process.pid}`;
    fs.writeFileSync(partial, js);
    fs.renameSync(partial, file);
    return js;
  }
}

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  module._compile(transpiled(filename, fs.readFileSync(filename, 'utf8')), filename);
};
