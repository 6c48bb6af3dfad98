import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { databaseUrl, runPrefix, withAdminClient } from '../support/test-database';

const migrationFiles = fs
  .readdirSync(path.join(__dirname, '../../src/database/migrations'))
  .filter((f) => /\.ts$/.test(f));

describe('boot migrations on PostgreSQL', () => {
  const name = `${runPrefix()}_empty`;
  const url = databaseUrl(name);
  const database = { name, url, drop: async () => undefined };
  let apps: TestApp[] = [];

  beforeAll(async () => {
    await withAdminClient(async (c) => void (await c.query(`CREATE DATABASE "${name}"`)));
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await withAdminClient(async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
  });

  it('three instances booting at once on an empty database migrate it exactly once and bootstrap one admin', async () => {
    const adminKey = `st_${'A'.repeat(32)}`;
    apps = await Promise.all(
      [0, 1, 2].map(() => startTestApp({ database, env: { SIMPLETUNER_ADMIN_API_KEY: adminKey } })),
    );
    for (const app of apps) {
      expect((await http(app.url, 'GET', '/health/ready')).status).toBe(200);
      expect((await http(app.url, 'GET', '/api/users/me', { key: adminKey })).status).toBe(200);
    }
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const rows = (await client.query<{ name: string }>('SELECT name FROM migrations ORDER BY id')).rows;
      expect(rows).toHaveLength(migrationFiles.length);
      expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
      const admins = await client.query(`SELECT count(*)::int AS n FROM users WHERE level = 'admin'`);
      expect(admins.rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('with DB_MIGRATIONS_RUN=false refuses to start on an unmigrated database, naming the fix', async () => {
    const emptyName = `${runPrefix()}_nomig`;
    await withAdminClient(async (c) => void (await c.query(`CREATE DATABASE "${emptyName}"`)));
    const db = { name: emptyName, url: databaseUrl(emptyName), drop: async () => undefined };
    try {
      await expect(startTestApp({ database: db, env: { DB_MIGRATIONS_RUN: 'false' } })).rejects.toThrow(
        /pending migrations.*migration:run/,
      );
      const c = new Client({ connectionString: db.url });
      await c.connect();
      const tables = await c.query(
        `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'users'`,
      );
      await c.end();
      expect(tables.rows[0].n).toBe(0);
    } finally {
      await withAdminClient(async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${emptyName}" WITH (FORCE)`)));
    }
  });
});
