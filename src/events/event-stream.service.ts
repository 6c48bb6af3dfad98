import type { ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth';
import { AppError, RateLimitError, ValidationError } from '../common/errors';
import { AppConfig } from '../config';
import { EventHub, StreamCaps } from './event-hub';
import type { StreamFilter } from './event-visibility';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';
import { START_POSITION } from './events.types';
import { SseConnection, StreamStart } from './sse-connection';
import { StreamAuthority } from './stream-authority';

/** What GET /api/events was asked, unparsed. */
export interface StreamParams {
  lastEventIdHeader?: string;
  lastEventIdQuery?: unknown;
  jobId?: unknown;
  types?: unknown;
}

const MAX_BIGINT = 9_223_372_036_854_775_807n;
const TYPE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

function parseLastEventId(params: StreamParams): bigint | null {
  // EventSource sends the header on reconnect while the URL keeps its first ?last_event_id=: the header wins.
  const raw =
    params.lastEventIdHeader?.trim() ||
    (typeof params.lastEventIdQuery === 'string' ? params.lastEventIdQuery.trim() : '');
  if (params.lastEventIdQuery !== undefined && typeof params.lastEventIdQuery !== 'string') {
    throw new ValidationError('Invalid last_event_id', { last_event_id: 'must be given once' });
  }
  if (!raw) return null;
  if (!/^\d{1,19}$/.test(raw) || BigInt(raw) > MAX_BIGINT) {
    throw new ValidationError('Invalid Last-Event-ID', { last_event_id: 'must be an event id (a whole number)' });
  }
  return BigInt(raw);
}

function parseStreamFilter(params: StreamParams): StreamFilter {
  const details: Record<string, string> = {};
  let jobId: string | null = null;
  if (params.jobId !== undefined) {
    if (typeof params.jobId !== 'string' || !params.jobId.trim() || params.jobId.length > 200)
      details.job_id = 'must be one job id';
    else jobId = params.jobId.trim();
  }
  let types: Set<string> | null = null;
  if (params.types !== undefined) {
    const names =
      typeof params.types === 'string'
        ? params.types
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : [];
    if (names.length === 0 || names.some((t) => !TYPE_NAME.test(t)))
      details.types = 'must be event types separated by commas';
    else types = new Set(names);
  }
  if (Object.keys(details).length)
    throw new ValidationError(`Invalid request: ${Object.keys(details).join(', ')}`, details);
  return { jobId, types };
}

/** 429 naming the cap that is full (each counted on this instance). */
function capReached(full: 'user' | 'org' | 'total', caps: StreamCaps): RateLimitError {
  const [limit, scope] =
    full === 'user'
      ? [caps.perUser, 'per user']
      : full === 'org'
        ? [caps.perOrg, 'per organisation']
        : [caps.total, 'on this instance'];
  return new RateLimitError(`At most ${limit} event streams may be open ${scope}`, { limit, scope: full });
}

const shuttingDown = () => new AppError('service_unavailable', 503, 'The server is shutting down; reconnect shortly');

/**
 * Opens SSE streams: parses the request, applies the caps (per user, per organisation, per instance), resolves
 * where the stream starts.
 */
@Injectable()
export class EventStreamService {
  private readonly caps: StreamCaps;

  constructor(
    private readonly hub: EventHub,
    private readonly repo: EventsRepository,
    private readonly config: AppConfig,
    private readonly authority: StreamAuthority,
    private readonly events: EventsService,
  ) {
    const env = config.env;
    this.caps = {
      perUser: env.SIMPLETUNER_SSE_MAX_PER_USER,
      perOrg: env.SIMPLETUNER_SSE_MAX_PER_ORG,
      total: env.SIMPLETUNER_SSE_MAX_CONNECTIONS,
    };
  }

  /**
   * Answers GET /api/events on `res`. Errors thrown before the stream starts (400, 429) reach the exception
   * filter as for any route. The user's slot is tied to the response's close event, so it is released however
   * the request ends, also when the client leaves while the start position is being looked up.
   */
  async open(user: AuthenticatedUser, params: StreamParams, res: ServerResponse): Promise<void> {
    const lastEventId = parseLastEventId(params);
    const filter = parseStreamFilter(params);
    if (this.hub.isStopped) throw shuttingDown();
    const owner = { userId: user.id, orgId: user.orgId };
    const full = this.hub.reserve(owner, this.caps);
    if (full !== null) throw capReached(full, this.caps);
    let connection: SseConnection | null = null;
    let released = false;
    res.once('close', () => {
      connection?.dispose();
      if (released) return;
      released = true;
      this.hub.release(owner);
    });
    let start: StreamStart;
    const safeHead = await this.repo.safeHead();
    if (lastEventId === null) {
      start = { kind: 'live', after: safeHead, safeHead };
    } else {
      // An id the log does not have: a replay of everything kept when nothing after it was ever purged, else a reset.
      const after =
        (await this.repo.findPosition(lastEventId)) ??
        ((await this.events.keptAfter(lastEventId)) ? START_POSITION : null);
      start = after
        ? { kind: 'resume', after, safeHead }
        : { kind: 'reset', lastEventId: lastEventId.toString(), after: START_POSITION, safeHead };
    }
    if (res.destroyed || res.writableEnded) return; // the client left meanwhile; close already released the slot
    if (this.hub.isStopped) throw shuttingDown();
    connection = new SseConnection(user, filter, res, this.hub, this.repo, this.authority);
    connection.start(start);
  }
}
