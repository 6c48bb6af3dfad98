import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { DataDirLockedError } from '../../src/database';
import { http } from '../support/http';
import { makeTempDir, startTestApp } from '../support/test-app';

describe('embedded PGlite database', () => {
  const dataDir = makeTempDir('st-pglite-');
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('keeps exactly the committed transaction when a concurrent one rolls back', async () => {
    const app = await startTestApp({ db: 'pglite', dataDir });
    try {
      const ds = app.app.get(DataSource);
      await ds.query('CREATE TABLE tx_probe (id int PRIMARY KEY, who text)');
      let releaseA!: () => void;
      const aMayFinish = new Promise<void>((r) => (releaseA = r));
      const a = ds.transaction(async (m) => {
        await m.query(`INSERT INTO tx_probe VALUES (1, 'committed')`);
        await aMayFinish;
      });
      const b = ds
        .transaction(async (m) => {
          await m.query(`INSERT INTO tx_probe VALUES (2, 'rolled back')`);
          throw new Error('roll back');
        })
        .catch((e: Error) => e.message);
      setTimeout(releaseA, 50);
      await expect(Promise.all([a, b])).resolves.toEqual([undefined, 'roll back']);
      await expect(ds.query('SELECT id, who FROM tx_probe ORDER BY id')).resolves.toEqual([
        { id: 1, who: 'committed' },
      ]);
    } finally {
      await app.stop();
    }
  }, 180_000);

  it('runs with the small-footprint settings, on a cluster created by a child process', async () => {
    // The first test's boot created the cluster: in a child process, through a staging folder renamed into place.
    expect(fs.existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'pgdata.init'))).toBe(false);
    const app = await startTestApp({ db: 'pglite', dataDir });
    try {
      const ds = app.app.get(DataSource);
      await expect(ds.query('SHOW shared_buffers')).resolves.toEqual([{ shared_buffers: '16MB' }]);
      // wal_buffers follows shared_buffers (1/32) rather than the default's 4MB.
      await expect(ds.query('SHOW wal_buffers')).resolves.toEqual([{ wal_buffers: '512kB' }]);
    } finally {
      await app.stop();
    }
  }, 180_000);

  it('writes the admin key file with mode 0600 and keeps users across a restart', async () => {
    const dir = makeTempDir('st-pglite-restart-');
    try {
      const first = await startTestApp({ db: 'pglite', dataDir: dir, env: { SIMPLETUNER_ADMIN_API_KEY: '' } });
      const keyFile = path.join(dir, 'admin-api-key');
      const key = fs.readFileSync(keyFile, 'utf8').trim();
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect((await http(first.url, 'GET', '/health/ready')).status).toBe(200);
      const created = await http(first.url, 'POST', '/api/users', {
        key,
        body: { username: 'kept', level: 'researcher' },
      });
      expect(created.status).toBe(201);
      await first.close();

      const second = await startTestApp({ db: 'pglite', dataDir: dir, env: { SIMPLETUNER_ADMIN_API_KEY: '' } });
      try {
        const users = await http(second.url, 'GET', '/api/users', { key });
        expect(users.status).toBe(200);
        expect(users.body.users.map((u: { username: string }) => u.username)).toEqual(['admin', 'kept']);
        expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(key);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000); // two PGlite boots

  it('refuses a second app on the same data folder and leaves the first one working', async () => {
    const first = await startTestApp({ db: 'pglite' });
    try {
      await expect(startTestApp({ db: 'pglite', dataDir: first.dataDir })).rejects.toBeInstanceOf(DataDirLockedError);
      const me = await http(first.url, 'GET', '/api/users/me', { key: first.adminKey });
      expect(me.status).toBe(200);
    } finally {
      await first.stop();
    }
  }, 180_000);
});
