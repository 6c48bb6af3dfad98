import { Injectable, OnModuleInit } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AppConfig } from '../../../src/config';
import { BackgroundTaskManager } from '../../../src/scheduling';
import { UsageReportService } from './usage-report.service';

export const USAGE_REPORT_TASK = 'enterprise_usage_report';
export const LICENSE_CHECK_TASK = 'enterprise_license_check';

/**
 * Transport only, as in core modules: a decorator-scheduled task and a config-scheduled single-leader task,
 * each calling one service method through the shared tick wrapper.
 */
@Injectable()
export class UsageReportScheduler implements OnModuleInit {
  constructor(
    private readonly tasks: BackgroundTaskManager,
    private readonly service: UsageReportService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.tasks.declare({ name: USAGE_REPORT_TASK, schedule: 'every 0.2s' });
    // Enterprise-only keys of the enterprise file are kept in `raw` for modules like this one.
    const own = (this.config.enterprise.raw.enterprise_example ?? {}) as { license_check_interval_seconds?: number };
    this.tasks.registerInterval({
      name: LICENSE_CHECK_TASK,
      intervalSeconds: own.license_check_interval_seconds ?? 3600,
      leader: true,
      run: () => this.service.checkLicense(),
    });
  }

  @Interval(USAGE_REPORT_TASK, 200)
  usageReport(): Promise<void> {
    return this.tasks.runTick(USAGE_REPORT_TASK, () => this.service.buildReport(new Date()));
  }
}
