import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { startEmbeddedPostgres } from '../../src/database';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { runMigrationsLocked } from '../../src/database/migration-runner';
import { runPrefix } from './test-database';

/** The embedded cluster's folder inside a data folder (src/database/embedded-postgres.ts). */
const PGDATA = 'pgdata';

/** This run's migrated embedded cluster, which PGlite test apps copy (like the PostgreSQL template they clone). */
export function pgliteTemplateDir(): string {
  return path.join(os.tmpdir(), `${runPrefix()}_pglite_tpl`);
}

/**
 * Gives `dataDir` a copy of a migrated embedded cluster. Creating one (initdb in WASM, then every migration) takes
 * a PGlite app most of its start (5–7 s with a copy against 18–29 s without, measured on this 2-core machine under
 * load); the first test file of a run that needs it builds the template while the others wait for it, then each
 * copies a folder. Outside a Jest run it does nothing.
 */
export async function seedMigratedPglite(dataDir: string): Promise<void> {
  // Outside a Jest run (a bench starting a test app) there is no run to share a template with: the app migrates
  // its own cluster as it starts.
  if (!process.env.ST_TEST_RUN_ID) return;
  const template = pgliteTemplateDir();
  await ensureTemplate(template);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.cpSync(path.join(template, PGDATA), path.join(dataDir, PGDATA), { recursive: true });
}

const isBuilt = (template: string) => fs.existsSync(path.join(template, PGDATA, 'PG_VERSION'));

/** One builder per run: a lock folder (mkdir is atomic) held while building; a lock left by a dead worker expires. */
async function ensureTemplate(template: string): Promise<void> {
  const lock = `${template}.lock`;
  while (!isBuilt(template)) {
    try {
      fs.mkdirSync(lock);
    } catch {
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) fs.rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      if (!isBuilt(template)) await buildTemplate(template);
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** Built aside and renamed into place: a template folder is always a complete, cleanly shut down cluster. */
async function buildTemplate(template: string): Promise<void> {
  const staging = `${template}.${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const embedded = await startEmbeddedPostgres(staging);
  try {
    const ds = new DataSource(buildDataSourceOptions({ kind: 'embedded', connect: embedded.connect }));
    await ds.initialize();
    try {
      await runMigrationsLocked(ds);
    } finally {
      await ds.destroy();
    }
  } finally {
    await embedded.stop();
  }
  fs.renameSync(staging, template);
}
