export type { DatabaseTarget } from './data-source-options';
export { DatabaseModule } from './database.module';
export { DataDirLockedError, startEmbeddedPostgres } from './embedded-postgres';
export type { EmbeddedPostgres } from './embedded-postgres';
