import { Injectable } from '@nestjs/common';
import { Db } from '../database/transaction-host';
import type { StoredJobView } from './job-view';
import type { JobArtifactView } from './jobs.view';
import type { JobViewColumns } from './pipeline/steps';

/**
 * The view's own fields of the job row `j`, built by the database as one JSON object: the driver then parses one
 * JSON value per row instead of forty typed columns (dates, numerics, arrays), which was most of a list page's CPU.
 * `retried_by` is the newest retry of the job (jobs_retry_of_idx). Times come as PostgreSQL writes them in JSON
 * (ISO 8601 with microseconds and an offset; formatting them in SQL cost more than Date does). Secrets are redacted, times rewritten and the derived fields added by jobView.
 */
const VIEW_JSON = `json_build_object(
    'job_id', j.job_id, 'user_id', j.user_id, 'org_id', j.org_id, 'provider', j.provider,
    'external_id', j.external_id, 'status', j.status, 'config_name', j.config_name, 'config', j.config,
    'dataloader_config', j.dataloader_config, 'lycoris_config', j.lycoris_config, 'dataset', j.dataset,
    'hub_model_id', j.hub_model_id, 'max_train_steps', j.max_train_steps, 'secrets', j.secret_names,
    'hardware_profile', j.hardware_profile, 'priority', j.priority, 'priority_override', j.priority_override,
    'requires_approval', j.requires_approval, 'approval_id', j.approval_id, 'cost_estimate', j.cost_estimate,
    'cost_usd', j.cost_usd, 'error_message', j.error_message, 'output_url', j.output_url, 'logs_url', j.logs_url,
    'correlation_id', j.correlation_id, 'attempt', j.attempt, 'max_attempts', j.max_attempts,
    'max_runtime_seconds', j.max_runtime_seconds, 'start_after', j.start_after,
    'max_wait_seconds', j.max_wait_seconds, 'created_at', j.created_at, 'queued_at', j.queued_at,
    'started_at', j.started_at, 'completed_at', j.completed_at, 'metadata', j.metadata, 'progress', j.progress,
    'retry_of', j.retry_of, 'retried_by', (SELECT r.job_id FROM jobs r WHERE r.retry_of = j.job_id
                                            ORDER BY r.created_at DESC, r.job_id DESC LIMIT 1))`;

/** Equality filters on a job's columns, by column name (the caller's scope, the list's filters). */
export type JobViewFilter = Partial<Record<'job_id' | 'user_id' | 'org_id' | 'provider' | 'status', string>>;

/** A job as its view reads it: its stored fields, and what other modules' columns (JobViewColumns) computed. */
export interface JobViewRow {
  job: StoredJobView;
  queuePosition: number | null;
  artifacts: JobArtifactView[];
}

interface RawViewRow {
  job_id?: string | null;
  job: StoredJobView;
  queue_position: number | null;
  artifacts: JobArtifactView[] | null;
  total?: number;
}

const viewRow = (r: RawViewRow): JobViewRow => ({
  job: r.job,
  queuePosition: r.queue_position,
  artifacts: r.artifacts ?? [],
});

/** The reads behind the job views (`GET /api/cloud/jobs`, `GET /api/cloud/jobs/:id`): one statement each. */
@Injectable()
export class JobViewsRepository {
  constructor(private readonly db: Db) {}

  /** `j."column" = $n AND …` for the filter, its values appended to `params`. */
  private where(filter: JobViewFilter, params: unknown[]): string {
    const clauses = Object.entries(filter)
      .filter(([, v]) => v !== undefined)
      .map(([column, value]) => {
        params.push(value);
        return `j."${column}" = $${params.length}`;
      });
    return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  }

  private columns(c: JobViewColumns, jobId: string): string {
    return `${c.queue_position(jobId)} AS queue_position, ${c.artifacts(jobId)} AS artifacts`;
  }

  /** The job matching the filter, with its view's columns from other modules. */
  async findView(filter: JobViewFilter, columns: JobViewColumns): Promise<JobViewRow | null> {
    const params: unknown[] = [];
    const rows: RawViewRow[] = await this.db.tx.query(
      `SELECT ${VIEW_JSON} AS job, ${this.columns(columns, 'j.job_id')} FROM jobs j ${this.where(filter, params)}`,
      params,
    );
    return rows.length ? viewRow(rows[0]) : null;
  }

  /**
   * A page of jobs, newest first, with their view's columns from other modules, and how many match: one statement,
   * read along the (org|user, created_at) indexes (an admin's unfiltered page sorts every job: no index serves it).
   * The count is the page's own when the page is the first and not full (it then holds every match); only otherwise
   * are the matches counted. The page joins one row holding the count, so that a page past the end still answers it.
   */
  async list(filter: JobViewFilter, take: number, skip: number, c: JobViewColumns): Promise<[JobViewRow[], number]> {
    const params: unknown[] = [];
    const where = this.where(filter, params);
    params.push(take, skip);
    const [limit, offset] = [`$${params.length - 1}::int`, `$${params.length}::int`];
    const rows: RawViewRow[] = await this.db.tx.query(
      `WITH page AS (
         SELECT * FROM jobs j ${where} ORDER BY j.created_at DESC, j.job_id DESC LIMIT ${limit} OFFSET ${offset})
       SELECT n.total, j.job_id, ${VIEW_JSON} AS job, ${this.columns(c, 'j.job_id')}
         FROM (SELECT CASE WHEN ${offset} = 0 AND (SELECT count(*) FROM page) < ${limit} THEN (SELECT count(*) FROM page)
                           ELSE (SELECT count(*) FROM jobs j ${where}) END::int AS total) n
         LEFT JOIN page j ON true
        ORDER BY j.created_at DESC, j.job_id DESC`,
      params,
    );
    const total = rows.length ? rows[0].total! : 0;
    return [rows.filter((r) => r.job_id !== null).map(viewRow), total];
  }
}
