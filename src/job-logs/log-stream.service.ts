import type { ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth';
import { AppError, RateLimitError, ValidationError } from '../common/errors';
import { AppConfig } from '../config';
import { EventHub, StreamAuthority } from '../events';
import { isTerminal, JobRecordsService } from '../jobs';
import { JobLogHub } from './job-log-hub';
import { JobLogsMetrics } from './job-logs.metrics';
import { JobLogsService } from './job-logs.service';
import { LogStream } from './log-stream';

/** What GET /api/cloud/jobs/:id/logs/stream was asked. */
export interface LogStreamParams {
  lastEventIdHeader?: string;
  lastEventIdQuery?: number;
  tail?: number;
}

const shuttingDown = () => new AppError('service_unavailable', 503, 'The server is shutting down; reconnect shortly');

function parseResumeOffset(params: LogStreamParams): number | null {
  const header = params.lastEventIdHeader?.trim();
  if (header) {
    if (!/^\d{1,15}$/.test(header)) {
      throw new ValidationError('Invalid Last-Event-ID', { last_event_id: 'must be a log offset (a whole number)' });
    }
    return Number(header);
  }
  return params.lastEventIdQuery ?? null;
}

/**
 * Opens job log streams: the job's visibility as for every job route, the same per-user, per-organisation and
 * per-instance caps as the event stream (one pool of SSE slots), and the same end when the key loses its authority.
 */
@Injectable()
export class LogStreamService {
  constructor(
    private readonly logs: JobLogsService,
    private readonly hub: JobLogHub,
    private readonly events: EventHub,
    private readonly authority: StreamAuthority,
    private readonly records: JobRecordsService,
    private readonly config: AppConfig,
    metrics: JobLogsMetrics,
  ) {
    metrics.streamsGauge(() => this.hub.streams());
  }

  async open(user: AuthenticatedUser, jobId: string, params: LogStreamParams, res: ServerResponse): Promise<void> {
    const resume = parseResumeOffset(params);
    const job = await this.logs.findVisible(user, jobId);
    if (this.hub.isStopped || this.events.isStopped) throw shuttingDown();
    const owner = { userId: user.id, orgId: user.orgId };
    const env = this.config.env;
    const caps = {
      perUser: env.SIMPLETUNER_SSE_MAX_PER_USER,
      perOrg: env.SIMPLETUNER_SSE_MAX_PER_ORG,
      total: env.SIMPLETUNER_SSE_MAX_CONNECTIONS,
    };
    const full = this.events.reserve(owner, caps);
    if (full !== null) {
      const limit = full === 'user' ? caps.perUser : full === 'org' ? caps.perOrg : caps.total;
      throw new RateLimitError(`At most ${limit} event streams may be open (${full})`, { limit, scope: full });
    }
    let stream: LogStream | null = null;
    let released = false;
    res.once('close', () => {
      stream?.dispose();
      if (released) return;
      released = true;
      this.events.release(owner);
    });
    // Without a resume point: the last `tail` lines, or the start of what is kept.
    const first =
      resume === null && params.tail !== undefined ? await this.logs.readRange(jobId, { tail: params.tail }) : null;
    if (res.destroyed || res.writableEnded) return; // the client left meanwhile; close already released the slot
    stream = new LogStream(user, jobId, res, {
      textAfter: (id, from, maxBytes) => this.logs.textAfter(id, from, maxBytes),
      status: async (id) => (await this.records.read([id]))[0]?.status ?? null,
      released: (s) => {
        this.hub.remove(s);
        this.authority.release(s);
      },
    });
    this.hub.add(stream);
    this.authority.bind(stream);
    stream.start(resume ?? first?.offset ?? 0, first, isTerminal(job.status));
  }
}
