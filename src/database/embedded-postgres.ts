import * as fs from 'node:fs';
import * as path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** The embedded database: PGlite served on a unix socket inside the data folder (SPEC §1). */
export interface EmbeddedPostgres {
  /** Directory holding the socket: pg's `host` for a unix socket. */
  readonly socketDir: string;
  readonly port: number;
  readonly dataDir: string;
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

const SOCKET_PORT = 5432;
const LOCK_FILE = 'simpletuner.lock';

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

export function acquireDataDirLock(dataDir: string): () => void {
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

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const release = acquireDataDirLock(dir);
  const socketPath = path.join(dir, `.s.PGSQL.${SOCKET_PORT}`);
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    fs.rmSync(socketPath, { force: true }); // left by a crash; we hold the lock, so it is ours
    db = await PGlite.create(path.join(dir, 'pgdata'));
    // One connection: PGlite is a single session, so concurrent transactions must queue in the pool.
    server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 1 });
    await server.start();
    fs.chmodSync(socketPath, 0o700);
  } catch (err) {
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    release();
    throw err;
  }
  let stopped = false;
  return {
    socketDir: dir,
    port: SOCKET_PORT,
    dataDir: dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await server!.stop();
        await db!.close();
      } finally {
        fs.rmSync(socketPath, { force: true });
        release();
      }
    },
  };
}
