import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';

export class LiveView {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

/** One readiness check: `up`, or `down` with why. */
const checks: ApiPropertyOptions = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
  example: { database: { status: 'up' }, migrations: { status: 'up' }, background_tasks: { status: 'up' } },
};

/** The database answers, migrations are applied and the background tasks run. */
export class ReadyView {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
  @ApiProperty(checks)
  info: Record<string, unknown>;
  @ApiProperty(checks)
  error: Record<string, unknown>;
  @ApiProperty(checks)
  details: Record<string, unknown>;
}
