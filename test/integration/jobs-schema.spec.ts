import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { startTestApp } from '../support/test-app';

/** The Job and ProviderConfig entities mirror migration 1764300003000: `migration:generate` finds nothing for them. */
it('has no schema difference between the jobs entities and the migrated database', async () => {
  const app = await startTestApp({});
  try {
    const db = app.app.get<DataSource>(getDataSourceToken());
    const log = await db.driver.createSchemaBuilder().log();
    const mine = log.upQueries.map((q) => q.query).filter((q) => /"jobs"|"jobs_|"provider_configs"/.test(q));
    expect(mine).toEqual([]);
  } finally {
    await app.stop();
  }
});
