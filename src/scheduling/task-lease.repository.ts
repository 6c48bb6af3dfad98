import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * Jitter allowance for leases: a tick fires a little late and the stamp includes query latency, so the same
 * instance's next tick can land a few ms short of a full interval after its previous stamp. Without slack it
 * would lose its own lease and the interval would be skipped. Runs stay at least interval − slack apart.
 */
export function leaseSlackSeconds(intervalSeconds: number): number {
  return Math.min(intervalSeconds * 0.2, 2);
}

export interface LeaseClaim {
  /** Written into task_leases.holder: which instance ran the interval. */
  holder?: string | null;
  /** Defaults to the database clock, shared by every instance. */
  now?: Date;
}

/**
 * The `task_leases` table: one winner per interval across instances for leader tasks. The claim runs on the
 * DataSource itself, never inside a caller's unit of work: a tick has none, and a rolled-back lease would let
 * another instance run the same interval.
 */
@Injectable()
export class TaskLeaseRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The lease row's last_run_at moves forward only when a full interval has passed. Insert-or-update in one
   * statement, so two first-ever claims still have one winner.
   */
  async tryAcquire(task: string, intervalSeconds: number, claim: LeaseClaim = {}): Promise<boolean> {
    const window = Math.max(0, intervalSeconds - leaseSlackSeconds(intervalSeconds));
    const rows = await this.db.query<{ task: string }[]>(
      `INSERT INTO task_leases AS l (task, last_run_at, holder, running_since, running_holder)
       VALUES ($1, COALESCE($2::timestamptz, now()), $3, COALESCE($2::timestamptz, now()), $3)
       ON CONFLICT (task) DO UPDATE SET last_run_at = EXCLUDED.last_run_at, holder = EXCLUDED.holder,
                                        running_since = EXCLUDED.running_since, running_holder = EXCLUDED.holder
         WHERE l.last_run_at <= EXCLUDED.last_run_at - make_interval(secs => $4)
       RETURNING l.task`,
      [task, claim.now ?? null, claim.holder ?? null, window],
    );
    return rows.length === 1;
  }

  /**
   * A run asked for now (POST /api/cloud/background-tasks/:name/run): takes the lease whatever its interval, unless
   * another holder's run is marked as going (and not older than `staleSeconds`: a crashed instance's mark expires).
   */
  async tryStartRun(task: string, holder: string, staleSeconds: number): Promise<boolean> {
    const rows = await this.db.query<{ task: string }[]>(
      `INSERT INTO task_leases AS l (task, last_run_at, holder, running_since, running_holder)
       VALUES ($1, now(), $2, now(), $2)
       ON CONFLICT (task) DO UPDATE SET last_run_at = EXCLUDED.last_run_at, holder = EXCLUDED.holder,
                                        running_since = EXCLUDED.running_since, running_holder = EXCLUDED.holder
         WHERE l.running_since IS NULL OR l.running_holder = $2
            OR l.running_since < EXCLUDED.running_since - make_interval(secs => $3)
       RETURNING l.task`,
      [task, holder, staleSeconds],
    );
    return rows.length === 1;
  }

  /** The holder's run ended: another instance may run the task now. */
  async finishRun(task: string, holder: string): Promise<void> {
    await this.db.query(
      `UPDATE task_leases SET running_since = NULL, running_holder = NULL WHERE task = $1 AND running_holder = $2`,
      [task, holder],
    );
  }
}
