import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppError } from '../common/errors';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth';
import { NoRateLimit } from '../rate-limits';
import { MigrationService } from '../database/database.module';
import { BackgroundTaskManager } from '../scheduling';
import { ApiErrors } from '../openapi';
import { LiveView, ReadyView } from './health.view';

@ApiTags('Health')
@Controller('health')
@Public()
// Probes and scrapes come on a schedule from one address; a 429 would read as the service being down.
@NoRateLimit()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly migrations: MigrationService,
    private readonly tasks: BackgroundTaskManager,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'The process answers' })
  @ApiOkResponse({ type: LiveView })
  live(): LiveView {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Ready for traffic',
    description:
      'The database answers, migrations are applied and the background tasks run (not yet, or no longer ' +
      'during shutdown: 503).',
  })
  @ApiOkResponse({ type: ReadyView })
  @ApiErrors('not_ready', 'request_timeout')
  async ready(): Promise<ReadyView> {
    try {
      return (await this.check()) as ReadyView;
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
