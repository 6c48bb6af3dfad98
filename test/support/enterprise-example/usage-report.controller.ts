import { Controller, Get } from '@nestjs/common';
import { UsageReportService } from './usage-report.service';

@Controller('api/enterprise/usage-report')
export class UsageReportController {
  constructor(private readonly service: UsageReportService) {}

  @Get()
  latest() {
    return { report: this.service.latest(), license_checks: this.service.licenseChecks };
  }
}
