import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { AppError } from '../common/errors';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth/auth.decorators';
import { MigrationService } from '../database/database.module';
import { BackgroundTaskManager } from '../scheduling';

@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly migrations: MigrationService,
    private readonly tasks: BackgroundTaskManager,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    try {
      return await this.check();
    } catch (err) {
      const details = err instanceof ServiceUnavailableException ? (err.getResponse() as Record<string, unknown>) : {};
      throw new AppError('not_ready', 503, 'Service is not ready', { checks: details.details ?? details });
    }
  }

  private check() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 3000 }),
      async () => {
        const indicator = this.indicators.check('migrations');
        return (await this.migrations.isSchemaCurrent())
          ? indicator.up()
          : indicator.down({ reason: 'pending migrations' });
      },
      () => {
        // Not ready until the background tasks run, and again once shutdown stops them (drains a load balancer).
        const indicator = this.indicators.check('background_tasks');
        return this.tasks.isStarted() ? indicator.up() : indicator.down({ reason: 'background tasks not started' });
      },
    ]);
  }
}
