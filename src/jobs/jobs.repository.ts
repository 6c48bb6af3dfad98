import { Injectable } from '@nestjs/common';
import { In, IsNull, Not } from 'typeorm';
import type { WritePart } from '../database/combined-write';
import type { Statement } from '../database/locked-write';
import { EntityRows, entityRows } from '../database/entity-rows';
import { affectedRows, Db, returnedRows } from '../database/transaction-host';
import { ACTIVE_STATUSES, JobStatus, TERMINAL_STATUSES } from '../common/job-status';
import { Job } from './job.entity';

/**
 * Written once at submit and never changed (the transition function's patch cannot name them, and no other statement
 * writes them): a caller holding a copy of the job need not read them again. The dispatcher re-reads the rest of a
 * hundred rows under lock right after reading them whole.
 */
const SET_AT_SUBMIT = new Set<string>([
  'userId',
  'orgId',
  'provider',
  'configName',
  'config',
  'hardwareProfile',
  'priority',
  'costEstimate',
  'correlationId',
  'maxAttempts',
  'maxRuntimeSeconds',
  'startAfter',
  'maxWaitSeconds',
  'idempotencyKey',
  'requestHash',
  'createdAt',
  'queuedAt',
]);
const SUBMIT_PROPERTIES = [...SET_AT_SUBMIT];

export interface ReadOptions {
  /** FOR UPDATE, in job_id order (the lock order everywhere). */
  lock?: boolean;
  /** With `lock`: pass over rows another transaction holds instead of waiting for them. */
  skipLocked?: boolean;
  /** Copies of the jobs the caller holds: the columns set at submit are taken from them, not read again. */
  copies?: Map<string, Job>;
}

/** Mean run time and count of the org's ($1) completed jobs on a profile ($2) in the last 90 days. */
/** What a submit reads from the jobs table (JobsRepository.submitFacts). */
export interface SubmitFacts {
  history: { meanSeconds: number | null; count: number };
  hasJob: boolean;
  lastDay: number;
}

export function toSubmitFacts(rows: unknown[]): SubmitFacts {
  const [row] = rows as { mean: number | null; n: number; has_job: boolean; last_day: number }[];
  return { history: { meanSeconds: row.mean, count: row.n }, hasJob: row.has_job, lastDay: row.last_day };
}

const COMPLETED_RUN_STATS = `
  SELECT avg(extract(epoch FROM completed_at - started_at))::float8 AS mean, count(*)::int AS n
    FROM jobs
   WHERE org_id = $1 AND hardware_profile = $2 AND status = 'completed'
     AND started_at IS NOT NULL AND completed_at > now() - interval '90 days'`;

/** A submitted job's row: what the submit sets (the rest takes the columns' defaults). */
export type NewJob = Pick<
  Job,
  | 'jobId'
  | 'userId'
  | 'orgId'
  | 'provider'
  | 'configName'
  | 'config'
  | 'hardwareProfile'
  | 'priority'
  | 'approvalId'
  | 'costEstimate'
  | 'correlationId'
  | 'maxRuntimeSeconds'
  | 'startAfter'
  | 'maxWaitSeconds'
  | 'maxAttempts'
  | 'idempotencyKey'
  | 'requestHash'
  | 'submittedKeyId'
  | 'submittedKeyMintedBy'
  | 'dataloaderConfig'
  | 'lycorisConfig'
  | 'dataset'
  | 'hubModelId'
  | 'maxTrainSteps'
  | 'secretNames'
  | 'retryOf'
>;

/** Equality filters on a job's columns. */
export interface JobFilter {
  jobId?: string;
  userId?: string;
  orgId?: string;
  provider?: string;
  status?: JobStatus;
  externalId?: string;
}

/** One set of changed columns and the rows that change them (see JobTransitionService). */
export interface ColumnChanges {
  columns: (keyof Job)[];
  rows: { jobId: string; values: Partial<Job> }[];
}

/** The jobs module's SQL: jobs, their idempotency keys, webhook deliveries. */
@Injectable()
export class JobsRepository {
  private rowsCache: { all: EntityRows<Job>; mutable: EntityRows<Job> } | null = null;

  constructor(private readonly db: Db) {}

  /** Every column, and every column but those set at submit (the training config can be kilobytes of JSON). */
  private rows(): { all: EntityRows<Job>; mutable: EntityRows<Job> } {
    this.rowsCache ??= {
      all: entityRows(this.db.tx, Job),
      mutable: entityRows(this.db.tx, Job, SET_AT_SUBMIT),
    };
    return this.rowsCache;
  }

  /**
   * Whole job rows by id, in job_id order. Plain SQL mapped through the entity's metadata: find() builds aliased
   * SQL and hydrates through it, which costs milliseconds on the queue's batches of 100.
   */
  async read(jobIds: string[], opts: ReadOptions = {}): Promise<Job[]> {
    if (jobIds.length === 0) return [];
    const rowsOf = opts.copies ? this.rows().mutable : this.rows().all;
    const lock = opts.lock ? ` FOR UPDATE${opts.skipLocked ? ' SKIP LOCKED' : ''}` : '';
    const rows: Record<string, unknown>[] = await this.db.tx.query(
      `SELECT ${rowsOf.select} FROM jobs WHERE job_id = ANY($1::uuid[]) ORDER BY job_id${lock}`,
      [jobIds],
    );
    const copies = opts.copies;
    if (!copies) return rows.map((row) => rowsOf.toEntity(row));
    return rows.map((row) => {
      const copy = copies.get(row.job_id as string) as unknown as Record<string, unknown> | undefined;
      if (!copy) throw new Error(`No copy of job ${String(row.job_id)} to take what is set at submit from`);
      const job = rowsOf.toEntity(row) as unknown as Record<string, unknown>;
      for (const p of SUBMIT_PROPERTIES) job[p] = copy[p];
      return job as unknown as Job;
    });
  }

  /** A submitted job's row, as its part of the submit's statement (created_at and queued_at: the statement's now()). */
  insertPart(j: NewJob): WritePart {
    return {
      sql: `INSERT INTO jobs (job_id, user_id, org_id, provider, status, config_name, config, hardware_profile, priority,
                              requires_approval, approval_id, cost_estimate, correlation_id, max_runtime_seconds,
                              max_attempts, idempotency_key, request_hash, submitted_key_id, submitted_key_minted_by,
                              dataloader_config, lycoris_config, dataset, hub_model_id, max_train_steps, secret_names,
                              retry_of, start_after, max_wait_seconds, metadata)
            VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                    $19, $20, $21, $22, $23, $24, $25, $26, $27, '{}')
            RETURNING job_id`,
      params: [
        j.jobId,
        j.userId,
        j.orgId,
        j.provider,
        j.configName,
        JSON.stringify(j.config),
        j.hardwareProfile,
        j.priority,
        j.approvalId !== null,
        j.approvalId,
        j.costEstimate,
        j.correlationId,
        j.maxRuntimeSeconds,
        j.maxAttempts,
        j.idempotencyKey,
        j.requestHash,
        j.submittedKeyId,
        j.submittedKeyMintedBy,
        j.dataloaderConfig === null ? null : JSON.stringify(j.dataloaderConfig),
        j.lycorisConfig === null ? null : JSON.stringify(j.lycorisConfig),
        j.dataset === null ? null : JSON.stringify(j.dataset),
        j.hubModelId,
        j.maxTrainSteps,
        j.secretNames,
        j.retryOf,
        j.startAfter,
        j.maxWaitSeconds,
      ],
    };
  }

  /**
   * What a submit needs from the jobs table, in one statement: the org's completed runs on the profile in the last
   * 90 days (the cost estimate), whether the user has any job, and the user's submissions in the 24 h before `at`.
   */
  async submitFacts(userId: string, orgId: string, profile: string, at: Date): Promise<SubmitFacts> {
    const { sql, params } = this.submitFactsStatement(userId, orgId, profile, at);
    return toSubmitFacts(await this.db.tx.query(sql, params));
  }

  /** submitFacts as a statement, for a caller that sends it with others (read it with toSubmitFacts). */
  submitFactsStatement(userId: string, orgId: string, profile: string, at: Date): Statement {
    return {
      sql: `SELECT h.mean, h.n,
                   EXISTS (SELECT 1 FROM jobs WHERE user_id = $3) AS has_job,
                   (SELECT count(*)::int FROM jobs
                     WHERE user_id = $3 AND created_at > $4::timestamptz - interval '24 hours') AS last_day
              FROM (${COMPLETED_RUN_STATS}) h`,
      params: [orgId, profile, userId, at],
    };
  }

  findOne(where: JobFilter): Promise<Job | null> {
    return this.db.tx.getRepository(Job).findOneBy(where);
  }

  /** A job of `provider` whose dispatch is not recorded yet (no external id). */
  findUndispatched(jobId: string, provider: string): Promise<Job | null> {
    return this.db.tx.getRepository(Job).findOneBy({ jobId, provider, externalId: IsNull() });
  }

  /** Active jobs the provider knows (an external id), oldest first; `providers` narrows it. */
  activeAtProviders(providers?: string[]): Promise<Job[]> {
    return this.db.tx.getRepository(Job).find({
      where: {
        status: In([...ACTIVE_STATUSES]),
        externalId: Not(IsNull()),
        ...(providers ? { provider: In(providers) } : {}),
      },
      order: { createdAt: 'ASC' },
    });
  }

  /** Deletes the job if it is finished; false when it is not (or is gone). */
  async deleteFinished(jobId: string): Promise<boolean> {
    return (await this.deleteFinishedMany([jobId])).length > 0;
  }

  /** Deletes those of the jobs that are finished; the ids it deleted. */
  async deleteFinishedMany(jobIds: string[]): Promise<string[]> {
    const rows = returnedRows<{ job_id: string }>(
      await this.db.tx.query(
        `DELETE FROM jobs WHERE job_id = ANY($1::uuid[]) AND status = ANY($2::text[]) RETURNING job_id`,
        [jobIds, [...TERMINAL_STATUSES]],
      ),
    );
    return rows.map((r) => r.job_id);
  }

  /**
   * Deletes up to `limit` finished jobs that completed before `cutoff`, oldest first, in one statement (its own short
   * transaction): their queue entries, approval requests, logs, secrets and artifact rows go with them (ON DELETE
   * CASCADE). Rows another transaction holds are passed over; an active job is never touched (the status is checked
   * again under the row lock). Returns the deleted jobs, and whether each had provider outputs (only those can have
   * stored artifacts).
   */
  async deleteFinishedBefore(
    cutoff: Date,
    limit: number,
  ): Promise<{ jobId: string; hadOutputs: boolean; uploadId: string | null }[]> {
    const rows = returnedRows<{ job_id: string; had_outputs: boolean; upload_id: string | null }>(
      await this.db.tx.query(
        `DELETE FROM jobs WHERE job_id IN (
           SELECT job_id FROM jobs WHERE status = ANY($2::text[]) AND completed_at < $1
            ORDER BY completed_at LIMIT $3 FOR UPDATE SKIP LOCKED)
           AND status = ANY($2::text[])
         RETURNING job_id, output_urls IS NOT NULL AS had_outputs, dataset->>'upload_id' AS upload_id`,
        [cutoff, [...TERMINAL_STATUSES], limit],
      ),
    );
    return rows.map((r) => ({ jobId: r.job_id, hadOutputs: r.had_outputs, uploadId: r.upload_id }));
  }

  /** Those of these uploads some job still uses as its dataset. */
  async uploadsInUse(uploadIds: string[]): Promise<Set<string>> {
    const rows = await this.db.tx.query<{ upload_id: string }[]>(
      `SELECT DISTINCT dataset->>'upload_id' AS upload_id FROM jobs WHERE dataset->>'upload_id' = ANY($1::text[])`,
      [uploadIds],
    );
    return new Set(rows.map((r) => r.upload_id));
  }

  /** Writes each set of changed columns with one UPDATE (no re-read), `updated_at` with it. */
  async writeChanges(changes: ColumnChanges): Promise<void> {
    const cols = changes.columns.map((p) => {
      const column = this.rows().all.byProperty.get(p);
      if (!column) throw new Error(`Job has no column ${String(p)}`);
      return { property: p, name: column.databaseName, type: String(column.type) };
    });
    const records = changes.rows.map((r) =>
      Object.fromEntries([
        ['job_id', r.jobId],
        ...cols.map((c): [string, unknown] => [c.name, r.values[c.property] ?? null]),
      ]),
    );
    await this.db.tx.query(
      `UPDATE jobs j SET ${cols.map((c) => `"${c.name}" = v."${c.name}"`).join(', ')}, updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS v(job_id uuid, ${cols.map((c) => `"${c.name}" ${c.type}`).join(', ')})
        WHERE j.job_id = v.job_id`,
      [JSON.stringify(records)],
    );
  }

  /** The prediction id, when a stale transition (the job already moved on) did not write it. */
  async setExternalIdIfMissing(jobId: string, externalId: string): Promise<void> {
    await this.db.tx.query(`UPDATE jobs SET external_id = $2 WHERE job_id = $1 AND external_id IS NULL`, [
      jobId,
      externalId,
    ]);
  }

  async setPriorityOverride(jobId: string, priority: number | null): Promise<void> {
    await this.db.tx.query(`UPDATE jobs SET priority_override = $2, updated_at = now() WHERE job_id = $1`, [
      jobId,
      priority,
    ]);
  }

  /** Mean run time of the org's completed jobs on this profile in the last 90 days. */
  async completedRunStats(orgId: string, profile: string): Promise<{ meanSeconds: number | null; count: number }> {
    const [row] = await this.db.tx.query<{ mean: number | null; n: number }[]>(COMPLETED_RUN_STATS, [orgId, profile]);
    return { meanSeconds: row?.mean ?? null, count: row?.n ?? 0 };
  }

  async countByStatus(): Promise<Map<string, number>> {
    const rows: { status: string; n: number }[] = await this.db.tx.query(
      `SELECT status, count(*)::int AS n FROM jobs GROUP BY status`,
    );
    return new Map(rows.map((r) => [r.status, r.n]));
  }

  // ---- idempotency keys ---------------------------------------------------------------------------------------

  async findIdempotencyKey(
    userId: string,
    key: string,
    hours: number,
  ): Promise<{ jobId: string; requestHash: string } | null> {
    const rows = await this.db.tx.query<{ job_id: string; request_hash: string }[]>(
      `SELECT job_id, request_hash FROM job_idempotency_keys
        WHERE user_id = $1 AND idempotency_key = $2 AND created_at > now() - make_interval(hours => $3)`,
      [userId, key, hours],
    );
    return rows[0] ? { jobId: rows[0].job_id, requestHash: rows[0].request_hash } : null;
  }

  /**
   * Takes the key for this job, as a part of the submit's statement: it returns no row when another job holds the
   * key (the submit then rolls back). A concurrent claim of the same key waits on the primary key until the first
   * commits. A key older than `hours` is taken over.
   */
  claimKeyPart(userId: string, key: string, jobId: string, hash: string, hours: number): WritePart {
    return {
      sql: `INSERT INTO job_idempotency_keys (user_id, idempotency_key, job_id, request_hash) VALUES ($1, $2, $3, $4)
            ON CONFLICT (user_id, idempotency_key) DO UPDATE
              SET job_id = EXCLUDED.job_id, request_hash = EXCLUDED.request_hash, created_at = now()
              WHERE job_idempotency_keys.created_at <= now() - make_interval(hours => $5)
            RETURNING job_id`,
      params: [userId, key, jobId, hash, hours],
    };
  }

  // ---- webhook deliveries -------------------------------------------------------------------------------------

  /** true when this webhook-id was not seen in the last 24 h (and is now recorded). */
  async recordWebhookDelivery(webhookId: string, provider: string, externalId: string): Promise<boolean> {
    const rows = await this.db.tx.query<unknown[]>(
      `INSERT INTO webhook_deliveries (webhook_id, provider, external_id) VALUES ($1, $2, $3)
       ON CONFLICT (webhook_id) DO UPDATE SET received_at = now(), external_id = EXCLUDED.external_id
         WHERE webhook_deliveries.received_at <= now() - interval '24 hours'
       RETURNING webhook_id`,
      [webhookId, provider, externalId],
    );
    return rows.length > 0;
  }

  /** Replay protection needs 24 h of ids, not more. */
  async purgeWebhookDeliveries(): Promise<number> {
    return affectedRows(
      await this.db.tx.query(`DELETE FROM webhook_deliveries WHERE received_at < now() - interval '24 hours'`),
    );
  }
}
