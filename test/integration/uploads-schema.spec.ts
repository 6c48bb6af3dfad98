import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { startTestApp } from '../support/test-app';

/** The Upload entity mirrors its migration: `migration:generate` finds nothing for the `uploads` table. */
it('has no schema difference between the Upload entity and the migrated database', async () => {
  const app = await startTestApp({});
  try {
    const db = app.app.get<DataSource>(getDataSourceToken());
    const log = await db.driver.createSchemaBuilder().log();
    expect(log.upQueries.map((q) => q.query).filter((q) => /"uploads"|"uploads_/.test(q))).toEqual([]);
  } finally {
    await app.stop();
  }
});
