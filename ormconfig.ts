/**
 * TypeORM CLI data source (`npm run migration:generate|run|revert`). Reads the same configuration as the app:
 * DATABASE_URL when set, else the embedded PGlite data under SIMPLETUNER_DATA_DIR — which it opens only when no
 * running app holds it (the data folder's lock file), then closes when the CLI is done.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadAppConfigOrExit } from './src/config';
import { buildDataSourceOptions } from './src/database/data-source-options';
import { DataDirLockedError, startEmbeddedPostgres } from './src/database/embedded-postgres';

async function createCliDataSource(): Promise<DataSource> {
  const config = loadAppConfigOrExit();
  if (config.env.DATABASE_URL) {
    return new DataSource(
      buildDataSourceOptions({ kind: 'postgres', url: config.env.DATABASE_URL, poolSize: 1 }, 'simpletuner-cli'),
    );
  }
  const embedded = await startEmbeddedPostgres(config.dataDir).catch((err: unknown) => {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  });
  const dataSource = new DataSource(
    buildDataSourceOptions({ kind: 'embedded', connect: embedded.connect }, 'simpletuner-cli'),
  );
  // The CLI destroys the data source when done: stop PGlite and release the lock with it.
  const destroy = dataSource.destroy.bind(dataSource);
  dataSource.destroy = async () => {
    try {
      await destroy();
    } finally {
      await embedded.stop();
    }
  };
  return dataSource;
}

export const dataSource = createCliDataSource();
