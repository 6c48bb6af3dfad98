import { Injectable } from '@nestjs/common';
import { EntityRows, entityRows } from '../database/entity-rows';
import { isoTimeSql } from '../database/sql-time';
import { returnedRows, Db } from '../database/transaction-host';
import type { ArtifactStatus } from '../common/artifact-status';
import { JobArtifact } from './job-artifact.entity';

/** A copy row as the job-ended step writes it. */
export type NewArtifact = Pick<
  JobArtifact,
  | 'artifactId'
  | 'jobId'
  | 'userId'
  | 'orgId'
  | 'provider'
  | 'correlationId'
  | 'name'
  | 'position'
  | 'sourceUrl'
  | 'error'
> & { status: Extract<ArtifactStatus, 'pending' | 'failed'> };

/** What a finished copy records. */
export interface CopiedBytes {
  size: number;
  sha256: string;
  contentType: string;
}

/** The `job_artifacts` table: the copy queue and the stored artifacts. Every write of a copy names its claim. */
@Injectable()
export class ArtifactsRepository {
  private rowsCache: EntityRows<JobArtifact> | null = null;

  constructor(private readonly db: Db) {}

  private get rows(): EntityRows<JobArtifact> {
    return (this.rowsCache ??= entityRows(this.db.tx, JobArtifact));
  }

  private toEntities(result: unknown): JobArtifact[] {
    return returnedRows<Record<string, unknown>>(result).map((r) => this.rows.toEntity(r));
  }

  async insertMany(rows: NewArtifact[]): Promise<void> {
    await this.db.tx.query(
      `INSERT INTO job_artifacts (artifact_id, job_id, user_id, org_id, provider, correlation_id, name, position,
                                  source_url, status, error)
       SELECT v.artifact_id, v.job_id, v.user_id, v.org_id, v.provider, v.correlation_id, v.name, v.position,
              v.source_url, v.status, v.error
         FROM jsonb_to_recordset($1::jsonb) AS v(artifact_id uuid, job_id uuid, user_id uuid, org_id uuid,
              provider text, correlation_id text, name text, position int, source_url text, status text, error text)`,
      [
        JSON.stringify(
          rows.map((r) => ({
            artifact_id: r.artifactId,
            job_id: r.jobId,
            user_id: r.userId,
            org_id: r.orgId,
            provider: r.provider,
            correlation_id: r.correlationId,
            name: r.name,
            position: r.position,
            source_url: r.sourceUrl,
            status: r.status,
            error: r.error,
          })),
        ),
      ],
    );
  }

  /** The jobs' artifacts, each job's in the order its outputs came. */
  async forJobs(jobIds: string[]): Promise<JobArtifact[]> {
    if (jobIds.length === 0) return [];
    return this.toEntities(
      await this.db.tx.query(
        `SELECT ${this.rows.select} FROM job_artifacts WHERE job_id = ANY($1::uuid[])
          ORDER BY job_id, position`,
        [jobIds],
      ),
    );
  }

  /**
   * The artifacts of the job whose id is the SQL expression `jobIdSql`, as a JSON array of the job view's
   * JobArtifactView (its outputs' order), for the job's own read to select.
   */
  viewsColumn(jobIdSql: string): string {
    return `(SELECT coalesce(json_agg(json_build_object(
                'name', a.name, 'size', a.size, 'sha256', a.sha256, 'content_type', a.content_type, 'status', a.status,
                'created_at', ${isoTimeSql('a.created_at')}) ORDER BY a.position), '[]'::json)
               FROM job_artifacts a WHERE a.job_id = ${jobIdSql})`;
  }

  async findByName(jobId: string, name: string): Promise<JobArtifact | null> {
    const rows = this.toEntities(
      await this.db.tx.query(`SELECT ${this.rows.select} FROM job_artifacts WHERE job_id = $1 AND name = $2`, [
        jobId,
        name,
      ]),
    );
    return rows[0] ?? null;
  }

  /**
   * Copies nobody is doing any more go back to pending, due at `now`: those whose holder let its lease pass (it
   * stopped), and with `unheldToo` every copying row but `held` (on the embedded database only this process can be
   * copying).
   */
  async requeueAbandoned(now: Date, held: string[], unheldToo: boolean): Promise<number> {
    const rows = returnedRows(
      await this.db.tx.query(
        `UPDATE job_artifacts SET status = 'pending', claim_id = NULL, lease_until = NULL, next_attempt_at = $3,
                updated_at = now()
          WHERE status = 'copying' AND (lease_until < now() OR ($2 AND NOT (artifact_id = ANY($1::uuid[]))))
         RETURNING artifact_id`,
        [held, unheldToo, now],
      ),
    );
    return rows.length;
  }

  /**
   * Claims up to `limit` pending rows due at `now`, oldest first, in one statement: each gets a new claim id, a
   * lease of `leaseSeconds` and one more attempt. SKIP LOCKED: two instances never claim the same row.
   */
  async claimDue(now: Date, limit: number, leaseSeconds: number): Promise<JobArtifact[]> {
    return this.toEntities(
      await this.db.tx.query(
        `UPDATE job_artifacts a
            SET status = 'copying', claim_id = gen_random_uuid(), lease_until = now() + make_interval(secs => $3),
                attempts = a.attempts + 1, updated_at = now()
           FROM (SELECT artifact_id FROM job_artifacts
                  WHERE status = 'pending' AND next_attempt_at <= $1
                  ORDER BY next_attempt_at, job_id, position LIMIT $2 FOR UPDATE SKIP LOCKED) due
          WHERE a.artifact_id = due.artifact_id
         RETURNING ${this.rows.columns.map((c) => `a."${c.databaseName}"`).join(', ')}`,
        [now, limit, leaseSeconds],
      ),
    );
  }

  /** false: the claim is no longer ours (the row went with its job, or another holder took it over). */
  async renew(row: JobArtifact, leaseSeconds: number): Promise<boolean> {
    const rows = returnedRows(
      await this.db.tx.query(
        `UPDATE job_artifacts SET lease_until = now() + make_interval(secs => $3)
          WHERE artifact_id = $1 AND claim_id = $2 AND status = 'copying' RETURNING artifact_id`,
        [row.artifactId, row.claimId, leaseSeconds],
      ),
    );
    return rows.length === 1;
  }

  /** The copy is complete; null when the claim is no longer ours. */
  async markStored(row: JobArtifact, copied: CopiedBytes): Promise<JobArtifact | null> {
    return this.finish(
      row,
      `status = 'stored', size = $3, sha256 = $4, content_type = $5, error = NULL, stored_at = now()`,
      [copied.size, copied.sha256, copied.contentType],
    );
  }

  async markFailed(row: JobArtifact, error: string): Promise<JobArtifact | null> {
    return this.finish(row, `status = 'failed', error = $3`, [error]);
  }

  /** Another attempt at `at`. */
  async retryLater(row: JobArtifact, error: string, at: Date): Promise<JobArtifact | null> {
    return this.finish(row, `status = 'pending', error = $3, next_attempt_at = $4`, [error, at]);
  }

  /** Handed back unfinished (the service is stopping): pending at once, the attempt not counted. */
  async release(row: JobArtifact): Promise<JobArtifact | null> {
    return this.finish(row, `status = 'pending', attempts = attempts - 1, next_attempt_at = now()`, []);
  }

  async exists(artifactId: string): Promise<boolean> {
    const rows = await this.db.tx.query<unknown[]>(`SELECT 1 FROM job_artifacts WHERE artifact_id = $1`, [artifactId]);
    return rows.length > 0;
  }

  private async finish(row: JobArtifact, set: string, params: unknown[]): Promise<JobArtifact | null> {
    const rows = this.toEntities(
      await this.db.tx.query(
        `UPDATE job_artifacts SET ${set}, claim_id = NULL, lease_until = NULL, updated_at = now()
          WHERE artifact_id = $1 AND claim_id = $2 AND status = 'copying'
         RETURNING ${this.rows.select}`,
        [row.artifactId, row.claimId, ...params],
      ),
    );
    return rows[0] ?? null;
  }
}
