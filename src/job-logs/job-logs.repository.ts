import { Injectable } from '@nestjs/common';
import { affectedRows, Db, returnedRows } from '../database/transaction-host';
import type { StoredChunk } from './log-text';

/** Woken with a job id when a job's log grew (PostgreSQL; PGlite is one process and wakes in-process). */
export const JOB_LOGS_CHANNEL = 'simpletuner_job_logs';

/** A job's log state, as an append reads it under its row lock. */
export interface LogState {
  jobId: string;
  consumed: number;
  stored: number;
  headBytes: number;
  headClosed: boolean;
}

/** A chunk to insert. */
export interface NewChunk {
  jobId: string;
  start: number;
  end: number;
  bytes: number;
  exact: boolean;
  head: boolean;
  text: string;
}

const num = (v: unknown): number => Number(v);

/** The `job_logs`, `job_log_chunks` and `followed_jobs` tables. */
@Injectable()
export class JobLogsRepository {
  constructor(private readonly db: Db) {}

  /** The log rows of these jobs, created when missing, locked in job_id order for the caller's transaction. */
  async lockStates(jobIds: string[]): Promise<Map<string, LogState>> {
    await this.db.tx.query(
      `INSERT INTO job_logs (job_id) SELECT unnest($1::uuid[]) ORDER BY 1 ON CONFLICT (job_id) DO NOTHING`,
      [jobIds],
    );
    const rows = await this.db.tx.query<Record<string, unknown>[]>(
      `SELECT job_id, consumed_bytes, stored_bytes, head_bytes, head_closed FROM job_logs
        WHERE job_id = ANY($1::uuid[]) ORDER BY job_id FOR UPDATE`,
      [jobIds],
    );
    return new Map(rows.map((r) => [r.job_id as string, toState(r)]));
  }

  /** How far each job's log has been read from the provider (jobs without a log are absent). */
  async consumed(jobIds: string[]): Promise<Map<string, number>> {
    if (jobIds.length === 0) return new Map();
    const rows = await this.db.tx.query<{ job_id: string; consumed_bytes: string }[]>(
      `SELECT job_id, consumed_bytes FROM job_logs WHERE job_id = ANY($1::uuid[])`,
      [jobIds],
    );
    return new Map(rows.map((r) => [r.job_id, num(r.consumed_bytes)]));
  }

  async insertChunks(chunks: NewChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    await this.db.tx.query(
      `INSERT INTO job_log_chunks (job_id, start_offset, end_offset, bytes, exact, head, text)
       SELECT v.job_id, v.start_offset, v.end_offset, v.bytes, v.exact, v.head, v.text
         FROM jsonb_to_recordset($1::jsonb) AS v(job_id uuid, start_offset bigint, end_offset bigint, bytes int,
              exact boolean, head boolean, text text)`,
      [
        JSON.stringify(
          chunks.map((c) => ({
            job_id: c.jobId,
            start_offset: c.start,
            end_offset: c.end,
            bytes: c.bytes,
            exact: c.exact,
            head: c.head,
            text: c.text,
          })),
        ),
      ],
    );
  }

  /** Writes the states back; with `notify`, other instances' streams of these jobs wake when it commits. */
  async saveStates(states: LogState[], notify: boolean): Promise<void> {
    if (states.length === 0) return;
    await this.db.tx.query(
      `UPDATE job_logs AS l SET consumed_bytes = v.consumed, stored_bytes = v.stored, head_bytes = v.head_bytes,
              head_closed = v.head_closed, updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS v(job_id uuid, consumed bigint, stored bigint, head_bytes bigint,
              head_closed boolean)
        WHERE l.job_id = v.job_id`,
      [
        JSON.stringify(
          states.map((s) => ({
            job_id: s.jobId,
            consumed: s.consumed,
            stored: s.stored,
            head_bytes: s.headBytes,
            head_closed: s.headClosed,
          })),
        ),
      ],
    );
    if (notify) {
      await this.db.tx.query(`SELECT pg_notify($1, id) FROM unnest($2::text[]) AS id`, [
        JOB_LOGS_CHANNEL,
        states.map((s) => s.jobId),
      ]);
    }
  }

  /**
   * Deletes the oldest chunks after the head until at least `excess` bytes of text are gone; returns the bytes
   * freed; the chunk at `keep` (the newest) stays. One statement: a running sum over the job's chunks after the head
   * picks those whose predecessors do not free enough yet.
   */
  async trim(jobId: string, excess: number, keep: number): Promise<number> {
    const result: unknown = await this.db.tx.query(
      `DELETE FROM job_log_chunks c
        USING (SELECT start_offset FROM (
                 SELECT start_offset, bytes, sum(bytes) OVER (ORDER BY start_offset) AS upto
                   FROM job_log_chunks WHERE job_id = $1 AND NOT head AND start_offset < $3) t
                WHERE t.upto - t.bytes < $2) d
        WHERE c.job_id = $1 AND c.start_offset = d.start_offset
        RETURNING c.bytes`,
      [jobId, excess, keep],
    );
    return returnedRows<{ bytes: number }>(result).reduce((sum, r) => sum + num(r.bytes), 0);
  }

  /** Chunks ending after `offset`, ascending, up to about `maxBytes` of text (always at least one). */
  async chunksAfter(jobId: string, offset: number, maxBytes: number): Promise<StoredChunk[]> {
    const rows = await this.db.tx.query<Record<string, unknown>[]>(
      `SELECT start_offset, end_offset, exact, text FROM (
         SELECT start_offset, end_offset, exact, text, sum(bytes) OVER (ORDER BY start_offset) - bytes AS before
           FROM job_log_chunks WHERE job_id = $1 AND end_offset > $2) t
        WHERE before < $3 ORDER BY start_offset`,
      [jobId, offset, maxBytes],
    );
    return rows.map(toChunk);
  }

  /** The newest chunks of the log, ascending, holding at least `maxBytes` of text when the log has that much. */
  async lastChunks(jobId: string, maxBytes: number): Promise<StoredChunk[]> {
    const rows = await this.db.tx.query<Record<string, unknown>[]>(
      `SELECT start_offset, end_offset, exact, text FROM (
         SELECT start_offset, end_offset, exact, text,
                sum(bytes) OVER (ORDER BY start_offset DESC) - bytes AS after
           FROM job_log_chunks WHERE job_id = $1) t
        WHERE after < $2 ORDER BY start_offset`,
      [jobId, maxBytes],
    );
    return rows.map(toChunk);
  }

  // ---- followed jobs -------------------------------------------------------------------------------------------

  /** This instance's watcher counts: rows written or refreshed, rows of jobs nobody here watches any more removed. */
  async syncFollowers(instanceId: string, watched: Map<string, number>): Promise<void> {
    const ids = [...watched.keys()];
    await this.db.tx.query(`DELETE FROM followed_jobs WHERE instance_id = $1 AND NOT (job_id = ANY($2::uuid[]))`, [
      instanceId,
      ids,
    ]);
    if (ids.length === 0) return;
    await this.db.tx.query(
      `INSERT INTO followed_jobs (job_id, instance_id, watchers, heartbeat_at)
       SELECT v.job_id, $1, v.watchers, now() FROM jsonb_to_recordset($2::jsonb) AS v(job_id uuid, watchers int)
       ON CONFLICT (job_id, instance_id) DO UPDATE SET watchers = EXCLUDED.watchers, heartbeat_at = now()`,
      [instanceId, JSON.stringify(ids.map((id) => ({ job_id: id, watchers: watched.get(id) })))],
    );
  }

  /** Jobs some instance renewed within `freshSeconds`; older rows (an instance that died) are removed. */
  async followedJobs(freshSeconds: number): Promise<string[]> {
    await this.db.tx.query(`DELETE FROM followed_jobs WHERE heartbeat_at < now() - make_interval(secs => $1)`, [
      freshSeconds,
    ]);
    const rows = await this.db.tx.query<{ job_id: string }[]>(
      `SELECT DISTINCT job_id FROM followed_jobs ORDER BY job_id`,
    );
    return rows.map((r) => r.job_id);
  }

  async forgetInstance(instanceId: string): Promise<number> {
    return affectedRows(await this.db.tx.query(`DELETE FROM followed_jobs WHERE instance_id = $1`, [instanceId]));
  }
}

function toState(r: Record<string, unknown>): LogState {
  return {
    jobId: r.job_id as string,
    consumed: num(r.consumed_bytes),
    stored: num(r.stored_bytes),
    headBytes: num(r.head_bytes),
    headClosed: r.head_closed as boolean,
  };
}

function toChunk(r: Record<string, unknown>): StoredChunk {
  return { start: num(r.start_offset), end: num(r.end_offset), exact: r.exact as boolean, text: r.text as string };
}
