import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth';
import { ValidationError } from '../common/errors';
import { isTerminal, JobsService, type Job } from '../jobs';
import { JobLogsRepository } from './job-logs.repository';
import { JobLogView } from './job-logs.view';
import { lastLines, LogText, omittedMarker, StoredChunk, textFrom } from './log-text';

/** Text one read answers at most (the next read continues at `next_offset`). */
const MAX_READ_BYTES = 1024 * 1024;
const DEFAULT_TAIL_LINES = 200;

/** Which part of a log to read: the last `tail` lines, or from provider byte `offset`. */
export interface LogRange {
  tail?: number;
  offset?: number;
}

/** Reading stored job logs, with the job's own visibility (JobsService decides it). */
@Injectable()
export class JobLogsService {
  constructor(
    private readonly repo: JobLogsRepository,
    private readonly jobs: JobsService,
  ) {}

  /** A visible job (404 as the job for anything else). */
  findVisible(user: AuthenticatedUser, jobId: string): Promise<Job> {
    return this.jobs.findVisible(user, jobId);
  }

  /** GET /api/cloud/jobs/:id/logs: `complete` once the job ended and the read reached its log's end. */
  async read(user: AuthenticatedUser, jobId: string, range: LogRange): Promise<JobLogView> {
    if (range.tail !== undefined && range.offset !== undefined) {
      throw new ValidationError('Give tail or offset, not both', { offset: 'cannot be combined with tail' });
    }
    const job = await this.findVisible(user, jobId);
    const text = await this.readRange(jobId, range);
    const consumed = (await this.repo.consumed([jobId])).get(jobId) ?? 0;
    return {
      job_id: jobId,
      offset: text.offset,
      next_offset: text.next,
      text: text.text,
      truncated: text.truncated,
      complete: isTerminal(job.status) && text.next >= consumed,
    };
  }

  async readRange(jobId: string, range: LogRange): Promise<LogText> {
    if (range.offset !== undefined) return this.textAfter(jobId, range.offset);
    const tail = (chunks: StoredChunk[]) => lastLines(chunks, range.tail ?? DEFAULT_TAIL_LINES, MAX_READ_BYTES);
    const chunks = await this.repo.lastChunks(jobId, MAX_READ_BYTES);
    if (chunks.length > 0) return tail(chunks);
    const end = (await this.repo.consumed([jobId])).get(jobId) ?? 0;
    if (end === 0) return { offset: 0, next: 0, text: '', truncated: false };
    // The log grew between the two reads, or it was trimmed whole: only a read after the length can tell.
    const again = await this.repo.lastChunks(jobId, MAX_READ_BYTES);
    return again.length > 0 ? tail(again) : everythingOmitted(0, end);
  }

  /** The text after provider offset `from`, up to about `maxBytes`; empty when nothing is stored after it. */
  async textAfter(jobId: string, from: number, maxBytes = MAX_READ_BYTES): Promise<LogText> {
    const chunks = await this.repo.chunksAfter(jobId, from, maxBytes);
    if (chunks.length > 0) return textFrom(chunks, from);
    const end = (await this.repo.consumed([jobId])).get(jobId) ?? 0;
    if (end <= from) return { offset: from, next: from, text: '', truncated: false };
    // The log reaches further than what the first read saw. Either an append committed between the two reads, or
    // that part was trimmed whole: chunks are committed with the length that counts them, so a read made after
    // the length was read sees them unless a trim removed them.
    const again = await this.repo.chunksAfter(jobId, from, maxBytes);
    return again.length > 0 ? textFrom(again, from) : everythingOmitted(from, end);
  }
}

function everythingOmitted(from: number, end: number): LogText {
  return { offset: from, next: end, text: omittedMarker(end - from), truncated: true };
}
