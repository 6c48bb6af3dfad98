import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import type { DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from './snake-naming.strategy';

const ENTITY_GLOB = path.join(__dirname, '..', '**', '*.entity.{ts,js}');
const MIGRATION_GLOB = path.join(__dirname, 'migrations', '*.{ts,js}');

export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolSize: number }
  /** PGlite in this process: `connect` opens a pg connection to it (EmbeddedPostgres.connect). */
  | { kind: 'embedded'; connect: () => Duplex };

/** TypeORM options for either database: one SQL dialect and one driver (`pg`) everywhere. */
export function buildDataSourceOptions(
  target: DatabaseTarget,
  applicationName = 'simpletuner-cloud',
): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: [ENTITY_GLOB],
    migrations: [MIGRATION_GLOB],
    migrationsTableName: 'migrations',
    migrationsRun: false, // run by MigrationService under an advisory lock
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    applicationName,
    logging: false,
  };
  if (target.kind === 'postgres') {
    return { ...common, url: target.url, extra: { max: target.poolSize, application_name: applicationName } };
  }
  return {
    ...common,
    // No network: pg's `stream` replaces the socket it would open (host and port are only passed to it).
    host: 'pglite',
    username: 'postgres',
    database: 'postgres',
    // PGlite is one session: a pool of one makes concurrent transactions queue instead of interleave.
    extra: { max: 1, stream: target.connect },
  };
}
