import * as fs from 'node:fs';
import { pgliteTemplateDir } from './pglite-template';
import { runPrefix, withAdminClient } from './test-database';

export default async function globalTeardown(): Promise<void> {
  for (const dir of [pgliteTemplateDir(), `${pgliteTemplateDir()}.lock`])
    fs.rmSync(dir, { recursive: true, force: true });
  const prefix = runPrefix();
  await withAdminClient(async (c) => {
    const rows = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [
      prefix,
    ]);
    for (const { datname } of rows.rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}
