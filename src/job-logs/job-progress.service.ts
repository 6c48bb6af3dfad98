import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { JobProgress, ProgressEventMark } from '../common/job-progress';
import { AppConfig } from '../config';
import { EventsService, type NewEvent } from '../events';
import type { AppendedLog } from './job-log-writer.service';
import { JobProgressRepository, StoredProgress } from './job-progress.repository';
import { parseProgress } from './progress-parser';

const FIELDS = [
  'stage',
  'step',
  'total_steps',
  'percent',
  'epoch',
  'total_epochs',
  'steps_per_second',
  'eta_seconds',
  'loss',
] as const satisfies readonly (keyof JobProgress)[];

/**
 * Reads the jobs' progress out of newly appended log text and stores it on the jobs, in the append's unit of work
 * (under its log row locks, so the progress read here is the one the previous append of the job stored). A
 * `job_progress` event goes out when the stage changed or the percent moved by at least 1 since the job's last one,
 * and that one is at least SIMPLETUNER_PROGRESS_EVENT_SECONDS old: a bar redrawn several times a second gives a
 * few events a minute, whatever the number of appends.
 */
@Injectable()
export class JobProgressService {
  private readonly eventMs: number;

  constructor(
    private readonly repo: JobProgressRepository,
    private readonly events: EventsService,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.eventMs = config.env.SIMPLETUNER_PROGRESS_EVENT_SECONDS * 1000;
  }

  /** One read, one write and one event insert for the whole batch, whatever the number of jobs. */
  async record(appended: AppendedLog[]): Promise<void> {
    if (appended.length === 0) return;
    const stored = await this.repo.read(appended.map((a) => a.job.jobId));
    const now = this.clock.now();
    const writes: StoredProgress[] = [];
    const events: NewEvent[] = [];
    for (const { job, text } of appended) {
      const before = stored.get(job.jobId);
      if (!before) continue;
      const parsed = parseProgress(text, before.progress);
      const moved = parsed !== null && !sameFields(parsed, before.progress);
      const progress = moved ? { ...parsed, updated_at: now.toISOString() } : before.progress;
      if (progress === null) continue;
      // Also when this text changed nothing: a change held back by the interval goes out with the next text after it.
      if (this.eventDue(progress, before.event, now)) {
        events.push({ type: 'job_progress', jobId: job.jobId, userId: job.userId, orgId: job.orgId, data: progress });
        writes.push({ jobId: job.jobId, progress, event: { at: now.toISOString(), ...pick(progress) } });
      } else if (moved) {
        writes.push({ jobId: job.jobId, progress, event: before.event });
      }
    }
    await this.repo.save(writes);
    await this.events.publishMany(events);
  }

  private eventDue(progress: JobProgress, last: ProgressEventMark | null, now: Date): boolean {
    if (last && now.getTime() - Date.parse(last.at) < this.eventMs) return false;
    const lastPercent = last?.percent ?? null;
    const moved = progress.percent !== null && (lastPercent === null || Math.abs(progress.percent - lastPercent) >= 1);
    return moved || progress.stage !== (last?.stage ?? null);
  }
}

function pick({ stage, percent }: JobProgress): Omit<ProgressEventMark, 'at'> {
  return { stage, percent };
}

function sameFields(a: JobProgress, b: JobProgress | null): boolean {
  return b !== null && FIELDS.every((f) => a[f] === b[f]);
}
