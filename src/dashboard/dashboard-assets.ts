import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

/** One built file, held in memory with its gzip form: the whole dashboard is a few tens of kilobytes. */
export interface DashboardFile {
  body: Buffer;
  gzipped: Buffer | null;
  contentType: string;
  etag: string;
}

export interface DashboardBuild {
  index: DashboardFile;
  /** By file name, exactly as the build wrote it under assets/ (hashed names). */
  assets: ReadonlyMap<string, DashboardFile>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json']);

function readFile(file: string): DashboardFile {
  const body = fs.readFileSync(file);
  const ext = path.extname(file);
  // Tiny files gain nothing from gzip and cost a header.
  const gzipped = COMPRESSIBLE.has(ext) && body.length > 512 ? gzipSync(body, { level: 9 }) : null;
  return {
    body,
    gzipped,
    contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

/** This checkout's root: the folder of our package.json, from src/dashboard (tests) or dist/src/dashboard (build). */
function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        if ((JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string }).name === 'simpletuner-cloud') return dir;
      } catch {
        // unreadable: keep looking
      }
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export function defaultDashboardDir(): string {
  return path.join(packageRoot(), 'web', 'dist');
}

/**
 * Reads a build into memory, or returns null when there is none (the service still runs; /dashboard says how to
 * build it). Only names found in the folder are ever served, so no request path reaches the file system.
 */
export function loadDashboardBuild(dir: string): DashboardBuild | null {
  const indexFile = path.join(dir, 'index.html');
  if (!fs.existsSync(indexFile)) return null;
  const assets = new Map<string, DashboardFile>();
  const assetsDir = path.join(dir, 'assets');
  if (fs.existsSync(assetsDir)) {
    for (const entry of fs.readdirSync(assetsDir, { withFileTypes: true })) {
      if (entry.isFile()) assets.set(entry.name, readFile(path.join(assetsDir, entry.name)));
    }
  }
  return { index: readFile(indexFile), assets };
}
