import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { AfterCommit } from '../database/after-commit';
import { Transactional } from '../database/transactional';
import { JobLogReport, JobLogsStep, JobSecretsService, type Job } from '../jobs';
import { getLogger } from '../logging';
import { JobLogHub } from './job-log-hub';
import { JobLogsMetrics } from './job-logs.metrics';
import { JobProgressService } from './job-progress.service';
import { JobLogsRepository, LogState, NewChunk } from './job-logs.repository';
import { newLogText } from './log-pieces';

const log = getLogger('simpletuner.cloud.job_logs');

/** The start of a log kept whatever follows: 1 MiB, or half the budget when that is smaller. */
const HEAD_BYTES = 1024 * 1024;

/** What one append added to a job's log: the new redacted text and where it sits in the provider's log. */
export interface AppendedLog {
  job: Job;
  /** Provider offsets of the new text: [offset, nextOffset). */
  offset: number;
  nextOffset: number;
  /** The new text as stored (redacted), whole lines unless the report ended the run. */
  text: string;
}

interface Prepared {
  report: JobLogReport;
  secrets: string[];
}

/**
 * Appends the new part of providers' logs to the jobs' stored logs (the JobLogsStep of the jobs' poll, webhook and
 * follow paths). Offsets are bytes of the log as the provider wrote it, so "what is new" is decided by the provider's
 * byte length, whatever redaction did to the stored text's length.
 */
@Injectable()
export class JobLogWriter implements JobLogsStep {
  private readonly maxBytes: number;
  private readonly headBytes: number;

  constructor(
    private readonly repo: JobLogsRepository,
    private readonly secrets: JobSecretsService,
    private readonly hub: JobLogHub,
    private readonly metrics: JobLogsMetrics,
    private readonly progress: JobProgressService,
    private readonly afterCommit: AfterCommit,
    private readonly config: AppConfig,
  ) {
    this.maxBytes = config.env.SIMPLETUNER_JOB_LOG_MAX_BYTES;
    this.headBytes = Math.min(HEAD_BYTES, Math.floor(this.maxBytes / 2));
  }

  async record(reports: JobLogReport[]): Promise<void> {
    const appended = await this.append(reports);
    if (appended.length > 0) log.debug(`Stored new log text of ${appended.length} jobs`, { jobs: appended.length });
  }

  /**
   * Stores what is new in each report, and the progress it tells, on the job; returns what was added (nothing for a
   * log that did not grow).
   */
  async append(reports: JobLogReport[]): Promise<AppendedLog[]> {
    const consumed = await this.repo.consumed(reports.map((r) => r.job.jobId));
    const grown = reports.filter((r) => Buffer.byteLength(r.logs) > (consumed.get(r.job.jobId) ?? 0));
    if (grown.length === 0) return [];
    const prepared: Prepared[] = [];
    for (const report of grown) {
      try {
        prepared.push({ report, secrets: await this.secretValues(report.job) });
      } catch (error) {
        // Never store a log that could not be redacted: it waits for the next report.
        log.warning("The job's secrets could not be opened; its new log text is not stored", {
          job_id: report.job.jobId,
          error,
        });
      }
    }
    return prepared.length ? this.appendLocked(prepared) : [];
  }

  private async secretValues(job: Job): Promise<string[]> {
    if (job.secretNames.length === 0) return [];
    return Object.values(await this.secrets.open(job.jobId)).filter((v): v is string => typeof v === 'string');
  }

  /** Under each job's log row lock (job_id order): so a job's chunks commit in offset order. */
  @Transactional()
  private async appendLocked(prepared: Prepared[]): Promise<AppendedLog[]> {
    const sorted = [...prepared].sort((a, b) => (a.report.job.jobId < b.report.job.jobId ? -1 : 1));
    const states = await this.repo.lockStates(sorted.map((p) => p.report.job.jobId));
    const chunks: NewChunk[] = [];
    const changed: LogState[] = [];
    const appended: AppendedLog[] = [];
    for (const { report, secrets } of sorted) {
      const state = states.get(report.job.jobId)!;
      const added = newLogText(report.logs, state.consumed, secrets, report.final);
      if (added.pieces.length === 0) continue;
      for (const piece of added.pieces) {
        const head = !state.headClosed && state.headBytes + piece.bytes <= this.headBytes;
        if (head) state.headBytes += piece.bytes;
        else state.headClosed = true;
        state.stored += piece.bytes;
        chunks.push({ jobId: state.jobId, ...piece, head });
      }
      appended.push({
        job: report.job,
        offset: state.consumed,
        nextOffset: added.consumed,
        text: added.pieces.map((p) => p.text).join(''),
      });
      state.consumed = added.consumed;
      changed.push(state);
    }
    await this.repo.insertChunks(chunks);
    for (const state of changed) await this.trimToBudget(state, chunks);
    await this.repo.saveStates(changed, !this.config.embeddedDatabase);
    // The new text is whole lines (the unterminated rest waits for the next report): what the progress reads.
    await this.progress.record(appended);
    const bytes = chunks.reduce((sum, c) => sum + c.bytes, 0);
    this.afterCommit.run(() => {
      this.metrics.stored(bytes);
      for (const a of appended) this.hub.wake(a.job.jobId);
    });
    return appended;
  }

  /**
   * Over budget, the oldest chunks after the head go, down to a sixteenth below the budget so that a trim is not
   * due again at every append. The newest chunk always stays.
   */
  private async trimToBudget(state: LogState, inserted: NewChunk[]): Promise<void> {
    if (state.stored <= this.maxBytes) return;
    const newest = inserted.filter((c) => c.jobId === state.jobId).reduce((a, c) => Math.max(a, c.start), 0);
    const excess = state.stored - this.maxBytes + Math.floor(this.maxBytes / 16);
    state.stored -= await this.repo.trim(state.jobId, excess, newest);
  }
}
