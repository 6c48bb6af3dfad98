import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { getLogger } from '../../../src/logging';
import { MetricsService } from '../../../src/metrics';

const log = getLogger('simpletuner.cloud.enterprise.usage');

export interface UsageReport {
  generated_at: string;
  users: number;
  reports_built: number;
}

/** The enterprise feature's rules live in a service method the scheduler calls (and tests can call directly). */
@Injectable()
export class UsageReportService {
  private last: UsageReport | null = null;
  private built = 0;
  licenseChecks = 0;
  private readonly usersGauge;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    metrics: MetricsService,
  ) {
    this.usersGauge = metrics.gauge({
      name: 'simpletuner_enterprise_users',
      help: 'Users counted by the last usage report',
    });
  }

  async buildReport(now: Date): Promise<UsageReport> {
    const [{ n }] = await this.db.query(`SELECT count(*)::int AS n FROM users`);
    this.built++;
    this.usersGauge.set(n);
    this.last = { generated_at: now.toISOString(), users: n, reports_built: this.built };
    log.debug('Built usage report', { users: n });
    return this.last;
  }

  checkLicense(): void {
    this.licenseChecks++;
  }

  latest(): UsageReport | null {
    return this.last;
  }
}
