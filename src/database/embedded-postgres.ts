import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { PGliteStream } from './pglite-stream';

/**
 * The embedded database: PGlite in this process, its data in the data folder, reached by the ordinary `pg` driver
 * through an in-process stream (no socket: nothing outside the process could use the one session anyway).
 */
export interface EmbeddedPostgres {
  readonly dataDir: string;
  /** A new connection for pg (its `stream` option). */
  readonly connect: () => Duplex;
  stop(): Promise<void>;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(
      `The data folder ${dataDir} is in use by another process (pid ${holderPid}). ` +
        'Stop that process first, or point SIMPLETUNER_DATA_DIR at another folder; ' +
        'PGlite data opened by two processes loses rows.',
    );
  }
}

/** Where versions before the in-process connection served PGlite; removed if a crash left it. */
const OLD_SOCKET = '.s.PGSQL.5432';
const LOCK_FILE = 'simpletuner.lock';
const PGDATA = 'pgdata';

/**
 * Settings of the embedded server, given on its command line at every start (so they apply to data folders made by
 * earlier versions too). PostgreSQL's default shared_buffers (128MB) is all touched inside the WASM heap, which
 * never shrinks: 16MB keeps an idle service well under 300 MB RSS, and a single-session database of this size
 * reads from the OS page cache just as fast. wal_buffers follows shared_buffers (1/32).
 */
const EMBEDDED_SETTINGS: Readonly<Record<string, string>> = { shared_buffers: '16MB' };

function embeddedStartParams(): string[] {
  return [...PGlite.defaultStartParams, ...Object.entries(EMBEDDED_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data folder's lock file (O_EXCL), replacing it only when its owner is dead.
 * Returns the release function.
 */
const heldByThisProcess = new Set<string>();

function acquireDataDirLock(dataDir: string): () => void {
  const lockPath = path.join(dataDir, LOCK_FILE);
  if (heldByThisProcess.has(lockPath)) throw new DataDirLockedError(dataDir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      heldByThisProcess.add(lockPath);
      return () => {
        heldByThisProcess.delete(lockPath);
        try {
          if (fs.readFileSync(lockPath, 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
      if (Number.isFinite(holder) && holder !== process.pid && isAlive(holder)) {
        throw new DataDirLockedError(dataDir, holder);
      }
      // Stale: its process died without releasing it (or a reused pid of ours from an earlier boot).
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`Could not take the lock file in ${dataDir}`);
}

function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Creates a new cluster at `pgdata` in a short-lived child process. PGlite's first start runs initdb in a second
 * WASM instance (and a third for initdb itself): done in this process, their peak (about 500 MB) would stay in its
 * RSS for good, since WASM memory is never returned. The child writes into a staging folder that is renamed into
 * place only once complete, so a crash mid-way leaves no half-made cluster behind.
 */
async function initEmbeddedCluster(pgdata: string): Promise<void> {
  const staging = `${pgdata}.init`;
  fs.rmSync(staging, { recursive: true, force: true });
  const script =
    `const { PGlite } = require(${JSON.stringify(require.resolve('@electric-sql/pglite'))});` +
    'PGlite.create(process.argv[1]).then((db) => db.close()).then(' +
    '() => process.exit(0), (err) => { process.stderr.write(String((err && err.stack) || err)); process.exit(1); });';
  const stderr: Buffer[] = [];
  const code = await new Promise<number | string>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, staging], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', reject);
    child.on('exit', (c, signal) => resolve(c ?? signal ?? -1));
  });
  if (code !== 0 || !fs.existsSync(path.join(staging, 'PG_VERSION'))) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(`Creating the embedded database failed (exit ${code}): ${Buffer.concat(stderr).toString().trim()}`);
  }
  fs.rmSync(pgdata, { recursive: true, force: true }); // absent or empty: checked by the caller
  fs.renameSync(staging, pgdata);
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const release = acquireDataDirLock(dir);
  let db: PGlite;
  try {
    fs.rmSync(path.join(dir, OLD_SOCKET), { force: true }); // we hold the lock: nobody serves it
    const pgdata = path.join(dir, PGDATA);
    if (isEmptyDir(pgdata)) await initEmbeddedCluster(pgdata);
    db = await PGlite.create(pgdata, { startParams: embeddedStartParams() });
  } catch (err) {
    release();
    throw err;
  }
  let stopped = false;
  return {
    dataDir: dir,
    connect: () => new PGliteStream(db),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}
