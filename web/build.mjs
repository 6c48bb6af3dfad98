// Builds the dashboard into web/dist (or --out <dir>): one hashed JS bundle, one hashed CSS file, an icon and
// index.html. Run by `npm run build`; the browser tests run it into a temporary folder.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const webDir = dirname(fileURLToPath(import.meta.url));
const ASSET_URL = '/dashboard/assets/';

function hashedName(file, body) {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  return `${basename(file, extname(file))}-${hash}${extname(file)}`;
}

export async function buildDashboard(outDir = join(webDir, 'dist')) {
  const assetsDir = join(outDir, 'assets');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(assetsDir, { recursive: true });

  const result = await esbuild.build({
    entryPoints: [join(webDir, 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });

  // Of the service, the page bundles only src/common's dependency-free rules (job statuses, permissions): a rule
  // file that starts importing Nest, TypeORM or another module fails here rather than swelling the page.
  const repoRoot = resolve(webDir, '..');
  const strays = Object.keys(result.metafile.inputs)
    .map((p) => relative(repoRoot, resolve(p)).split(sep).join('/'))
    .filter((p) => !/^(web\/src|src\/common|node_modules\/(preact|eventsource-parser|uplot))\//.test(p));
  if (strays.length > 0) throw new Error(`dashboard: the page would bundle ${strays.join(', ')}`);

  const outputs = Object.keys(result.metafile.outputs).map((p) => resolve(p));
  const script = outputs.find((p) => p.endsWith('.js'));
  const style = outputs.find((p) => p.endsWith('.css'));
  const iconSource = join(webDir, 'src', 'icon.svg');
  const icon = hashedName(iconSource, readFileSync(iconSource));
  copyFileSync(iconSource, join(assetsDir, icon));

  const html = readFileSync(join(webDir, 'src', 'index.html'), 'utf8')
    .replace('%SCRIPT%', ASSET_URL + basename(script))
    .replace('%STYLE%', ASSET_URL + basename(style))
    .replace('%ICON%', ASSET_URL + icon);
  writeFileSync(join(outDir, 'index.html'), html);

  const sizes = [script, style].map((file) => {
    const body = readFileSync(file);
    return { file: relative(process.cwd(), file), bytes: body.length, gzipped: gzipSync(body, { level: 9 }).length };
  });
  return { outDir, sizes };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outFlag = process.argv.indexOf('--out');
  const { outDir, sizes } = await buildDashboard(outFlag > 0 ? resolve(process.argv[outFlag + 1]) : undefined);
  if (!process.argv.includes('--quiet')) {
    for (const s of sizes) console.log(`dashboard: ${s.file} ${s.bytes} bytes, ${s.gzipped} gzipped`);
    console.log(`dashboard: built into ${relative(process.cwd(), outDir) || '.'}`);
  }
}
