import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtension, ApiExtraModels, ApiOkResponse, getSchemaPath } from '@nestjs/swagger';

/**
 * A `text/event-stream` response: OpenAPI 3.0 has no schema for a stream's messages, so each event name is listed
 * with the schema of its `data:` JSON, in the description (for people) and in `x-sse-events` (for tools).
 */
export function ApiEventStream(events: Record<string, Type>, description: string): MethodDecorator {
  const table = Object.entries(events)
    .map(([name, model]) => `| \`${name}\` | [${model.name}](#/components/schemas/${model.name}) |`)
    .join('\n');
  return applyDecorators(
    ApiExtraModels(...Object.values(events)),
    ApiOkResponse({
      description: `${description}\n\n| event | data |\n| --- | --- |\n${table}`,
      headers: {
        'X-Last-Event-ID': {
          description:
            'On a live stream (no Last-Event-ID sent), the id of the newest event before it starts: a client that ' +
            'drops before its first event resumes from here without losing any. Absent on a resumed stream, and ' +
            'before the first event ever.',
          schema: { type: 'string', pattern: '^\\d{1,19}$' },
        },
      },
      content: {
        'text/event-stream': {
          schema: { type: 'string' },
          example:
            ': connected\n\nid: 42\nevent: job_status_changed\n' +
            'data: {"type":"job_status_changed","job_id":"3f1c2b9e-8a4d-4c6e-9b1a-2d7e5f0a1c3b","status":"running","previous_status":"queued"}\n\n',
        },
      },
    }),
    ApiExtension(
      'x-sse-events',
      Object.fromEntries(Object.entries(events).map(([name, model]) => [name, { $ref: getSchemaPath(model) }])),
    ),
  );
}
