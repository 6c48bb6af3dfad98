import { Module } from '@nestjs/common';
import { UsageReportController } from './usage-report.controller';
import { UsageReportScheduler } from './usage-report.scheduler';
import { UsageReportService } from './usage-report.service';

/**
 * An enterprise build's own feature, added through `createApp(config, { imports: [EnterpriseExampleModule] })`
 * with no edit to src/: its scheduler's @Interval methods are found when the app starts, and AppConfig, the DataSource
 * and MetricsService are global.
 */
@Module({
  providers: [UsageReportService, UsageReportScheduler],
  controllers: [UsageReportController],
})
export class EnterpriseExampleModule {}
