import { DynamicModule, Global, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { buildDataSourceOptions, DatabaseTarget } from './data-source-options';
import { AfterCommit } from './after-commit';
import { CombinedWrites } from './combined-write';
import { LockedWrites } from './locked-write';
import { pendingMigrations, runMigrationsLocked } from './migration-runner';
import { NotificationListener } from './notification-listener';
import { SettingsCache } from './settings-cache';

const log = getLogger('simpletuner.cloud.database');

/** Runs boot migrations (unless DB_MIGRATIONS_RUN=false) and answers "is the schema current?". */
@Injectable()
export class MigrationService implements OnModuleInit {
  private current = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.env.DB_MIGRATIONS_RUN) {
      const pending = await pendingMigrations(this.db);
      if (pending.length > 0) {
        throw new Error(
          `The database schema is behind (${pending.length} pending migrations) and DB_MIGRATIONS_RUN=false: ` +
            'run `npm run migration:run` first, or unset DB_MIGRATIONS_RUN',
        );
      }
      this.current = true;
      return;
    }
    const ran = await runMigrationsLocked(this.db);
    if (ran.length > 0) log.info(`Applied ${ran.length} migrations`, { migrations: ran });
    this.current = true;
  }

  async isSchemaCurrent(): Promise<boolean> {
    if (this.current) return true;
    this.current = (await pendingMigrations(this.db)).length === 0;
    return this.current;
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(target: DatabaseTarget): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...buildDataSourceOptions(target),
          // Each module registers its own entities (TypeOrmModule.forFeature): no module reaches another's tables.
          entities: [],
          autoLoadEntities: true,
          retryAttempts: 3,
          retryDelay: 1000,
        }),
      ],
      providers: [MigrationService, AfterCommit, CombinedWrites, LockedWrites, NotificationListener, SettingsCache],
      exports: [MigrationService, AfterCommit, CombinedWrites, LockedWrites, NotificationListener, SettingsCache],
    };
  }
}
