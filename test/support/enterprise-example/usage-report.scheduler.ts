import { Injectable } from '@nestjs/common';
import { Interval } from '../../../src/scheduling';
import { UsageReport, UsageReportService } from './usage-report.service';

export const USAGE_REPORT_TASK = 'enterprise_usage_report';
export const LICENSE_CHECK_TASK = 'enterprise_license_check';

/** Enterprise-only keys of the enterprise file are kept in `raw` for modules like this one. */
interface OwnConfig {
  license_check_interval_seconds?: number;
}

/**
 * Transport only, as in core modules: a fixed-period task and a config-scheduled single-leader task, each calling
 * one service method. The same decorators as core; nothing to register.
 */
@Injectable()
export class UsageReportScheduler {
  constructor(private readonly service: UsageReportService) {}

  @Interval(USAGE_REPORT_TASK, 0.2)
  usageReport(): Promise<UsageReport> {
    return this.service.buildReport(new Date());
  }

  @Interval(
    LICENSE_CHECK_TASK,
    (config) =>
      (config.enterprise.raw.enterprise_example as OwnConfig | undefined)?.license_check_interval_seconds ?? 3600,
    { leader: true },
  )
  checkLicense(): void {
    this.service.checkLicense();
  }
}
