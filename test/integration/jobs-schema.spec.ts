import { startServiceModule } from '../support/service-module';

/** The Job and ProviderConfig entities mirror migration 1764300003000: `migration:generate` finds nothing for them. */
it('has no schema difference between the jobs entities and the migrated database', async () => {
  const services = await startServiceModule();
  try {
    const log = await services.db.driver.createSchemaBuilder().log();
    const mine = log.upQueries.map((q) => q.query).filter((q) => /"jobs"|"jobs_|"provider_configs"/.test(q));
    expect(mine).toEqual([]);
  } finally {
    await services.close();
  }
});
