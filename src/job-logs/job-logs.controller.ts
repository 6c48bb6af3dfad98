import type { ServerResponse } from 'node:http';
import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import {
  ApiExtension,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { AllowQueryApiKey, CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors } from '../openapi';
import { JobLogQuery, LogStreamQuery } from './job-logs.dto';
import { JobLogsService } from './job-logs.service';
import { JobLogView, LOG_STREAM_EVENTS } from './job-logs.view';
import { LogStreamService } from './log-stream.service';

/** The log stream's route, long-lived: the request timeout and the request log leave it out. */
export const LOG_STREAM_PATH = /^\/api\/cloud\/jobs\/[^/]+\/logs\/stream$/;

const eventTable = Object.entries(LOG_STREAM_EVENTS)
  .map(([name, model]) => `| \`${name}\` | [${model.name}](#/components/schemas/${model.name}) |`)
  .join('\n');

@ApiTags('Jobs')
@Controller('api/cloud/jobs')
export class JobLogsController {
  constructor(
    private readonly logs: JobLogsService,
    private readonly streams: LogStreamService,
  ) {}

  @Get(':id/logs')
  @MinLevel('viewer')
  @ApiOperation({
    summary: "Read a job's log",
    description:
      "The provider's log of the run as stored by the service, secrets redacted: the last `tail` lines (200 by " +
      'default), or from `offset` on (a previous read’s `next_offset`). Offsets count bytes of the log as the ' +
      'provider wrote it. A long log keeps its start and its newest part; a read across the middle gets ' +
      '`[… N bytes omitted …]` there. Visible to whoever sees the job.',
  })
  @ApiOkResponse({ type: JobLogView })
  @ApiErrors('job_not_found')
  read(
    @CurrentUser() user: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Query() query: JobLogQuery,
  ): Promise<JobLogView> {
    return this.logs.read(user, id, { tail: query.tail, offset: query.offset });
  }

  @Get(':id/logs/stream')
  @MinLevel('viewer')
  @AllowQueryApiKey()
  @ApiOperation({
    summary: "Stream a job's log (Server-Sent Events)",
    description:
      'Starts with a `: connected` comment, then the log from the start of what is kept (or its last `tail` ' +
      'lines) as `log` messages whose `id:` is the offset after their text; `Last-Event-ID` continues after it ' +
      'without gap or duplicate. While the stream is open a running job is fetched from its provider every ' +
      '`SIMPLETUNER_LOG_FOLLOW_INTERVAL` seconds. Once the job has ended and its whole log was sent: `end`, then ' +
      'the stream closes. A `: heartbeat` comment every 15 s.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Continue after this log offset (what EventSource sends when it reconnects)',
    schema: { type: 'string', pattern: '^\\d{1,15}$' },
  })
  @ApiExtraModels(...Object.values(LOG_STREAM_EVENTS))
  @ApiOkResponse({
    description: `The log stream; each message has \`event:\` (the type) and \`data:\` (JSON).\n\n| event | data |\n| --- | --- |\n${eventTable}`,
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example:
          ': connected\n\nid: 52\nevent: log\n' +
          'data: {"type":"log","offset":0,"next_offset":52,"text":"Steps:  12%|█▏        | 120/1000 [01:23<10:12]\\n"}\n\n',
      },
    },
  })
  @ApiExtension(
    'x-sse-events',
    Object.fromEntries(
      Object.entries(LOG_STREAM_EVENTS).map(([name, model]) => [name, { $ref: getSchemaPath(model) }]),
    ),
  )
  @ApiErrors('job_not_found', 'service_unavailable')
  stream(
    @CurrentUser() user: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Query() query: LogStreamQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: ServerResponse,
  ): Promise<void> {
    return this.streams.open(
      user,
      id,
      { lastEventIdHeader: lastEventId, lastEventIdQuery: query.last_event_id, tail: query.tail },
      res,
    );
  }
}
