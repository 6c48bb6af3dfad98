import { DynamicModule, Module, Type } from '@nestjs/common';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { ScheduleModule } from '@nestjs/schedule';
import { AuthModule } from './auth';
import { RateLimitsModule } from './rate-limits';
import { AppConfig, ConfigModule } from './config';
import { Clock, ClockModule } from './common/clock';
import { DatabaseModule, DatabaseTarget } from './database';
import { EventsModule } from './events';
import { SettingsModule } from './settings';
import { AuditModule } from './audit';
import { HealthModule } from './health';
import { MetricsModule } from './metrics';
import { SchedulingModule } from './scheduling';
import { HttpModule } from './http';
import { SecretsModule } from './secrets';
import { LoggingModule } from './logging/logging.module';
import { JobsModule } from './jobs';
import { QueueModule } from './queue';
import { ApprovalsModule } from './approvals';
import { ArtifactsModule } from './artifacts';
import { JobLogsModule } from './job-logs';
import { QuotasModule } from './quotas';
import { NotificationsModule } from './notifications';
import { DashboardModule } from './dashboard';
import { UploadsModule } from './uploads';
import { JobPipelineStepsModule } from './job-pipeline-steps.module';
import type { JobEndedStep } from './jobs';

export interface AppModuleOptions {
  config: AppConfig;
  database: DatabaseTarget;
  /** Extra modules (enterprise features, test modules) added without editing core files. */
  imports?: DynamicModule['imports'];
  /** The time source (default: the system clock). */
  clock?: Clock;
  /** Steps added at the end of the job-ended pipeline (providers of the `imports` modules). */
  jobEndedSteps?: Type<JobEndedStep>[];
}

@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(opts.config),
        ClockModule.forRoot(opts.clock),
        // The correlation middleware is mounted in the app factory (before body parsing), not here.
        ClsModule.forRoot({
          global: true,
          middleware: { mount: false },
          // Units of work: services mark them with @Transactional(); repositories join through TransactionHost.
          plugins: [
            new ClsPluginTransactional({
              adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
            }),
          ],
        }),
        ScheduleModule.forRoot(),
        LoggingModule,
        MetricsModule,
        SchedulingModule,
        DatabaseModule.forRoot(opts.database),
        SettingsModule,
        AuditModule,
        HttpModule,
        SecretsModule,
        AuthModule,
        // After AuthModule: its guard limits by the API key the auth guard found.
        RateLimitsModule,
        EventsModule,
        HealthModule,
        JobsModule,
        QueueModule,
        ApprovalsModule,
        ArtifactsModule,
        JobLogsModule,
        QuotasModule,
        NotificationsModule,
        JobPipelineStepsModule.forRoot(opts.jobEndedSteps),
        DashboardModule,
        UploadsModule,
        ...(opts.imports ?? []),
      ],
    };
  }
}
