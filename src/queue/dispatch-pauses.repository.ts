import { Injectable } from '@nestjs/common';
import { Db, returnedRows } from '../database/transaction-host';

export type PauseScope = 'global' | 'provider' | 'org';
export const PAUSE_SCOPES: readonly PauseScope[] = ['global', 'provider', 'org'];

/** A stored pause: one per scope (scope_id null for `global`). */
export interface DispatchPause {
  id: string;
  scope: PauseScope;
  scopeId: string | null;
  reason: string;
  pausedBy: string | null;
  createdAt: Date;
}

interface PauseRow {
  id: string;
  scope: PauseScope;
  scope_id: string | null;
  reason: string;
  paused_by: string | null;
  created_at: Date;
}

const toPause = (r: PauseRow): DispatchPause => ({
  id: r.id,
  scope: r.scope,
  scopeId: r.scope_id,
  reason: r.reason,
  pausedBy: r.paused_by,
  createdAt: r.created_at,
});

/**
 * What the claim leaves out (ClaimRepository): a CTE over `dispatch_pauses` read once per statement, and the
 * condition an entry (its `provider` and `org_id` columns, prefixed by `alias`) must meet to be dispatched.
 */
export const PAUSED_CTE = `paused AS (
    SELECT COALESCE(bool_or(scope = 'global'), false) AS all_paused,
           COALESCE(array_agg(scope_id) FILTER (WHERE scope = 'provider'), '{}') AS providers,
           COALESCE(array_agg(scope_id) FILTER (WHERE scope = 'org'), '{}') AS orgs
      FROM dispatch_pauses)`;
export const notPaused = (alias = '') =>
  `NOT (SELECT all_paused FROM paused) AND ${alias}provider <> ALL((SELECT providers FROM paused)::text[])
   AND ${alias}org_id::text <> ALL((SELECT orgs FROM paused)::text[])`;

/** The `dispatch_pauses` table. */
@Injectable()
export class DispatchPausesRepository {
  constructor(private readonly db: Db) {}

  async list(): Promise<DispatchPause[]> {
    const rows: PauseRow[] = await this.db.tx.query(`SELECT * FROM dispatch_pauses ORDER BY created_at, id`);
    return rows.map(toPause);
  }

  /** The pause of this scope, if any (locked when asked, in the caller's transaction). */
  async find(scope: PauseScope, scopeId: string | null, lock = false): Promise<DispatchPause | null> {
    const rows: PauseRow[] = await this.db.tx.query(
      `SELECT * FROM dispatch_pauses WHERE scope = $1 AND COALESCE(scope_id, '') = COALESCE($2, '')
       ${lock ? 'FOR UPDATE' : ''}`,
      [scope, scopeId],
    );
    return rows.length ? toPause(rows[0]) : null;
  }

  /** Inserts the pause unless its scope is already paused; null then. */
  async insert(p: DispatchPause): Promise<DispatchPause | null> {
    const rows = returnedRows<PauseRow>(
      await this.db.tx.query(
        `INSERT INTO dispatch_pauses (id, scope, scope_id, reason, paused_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (scope, COALESCE(scope_id, '')) DO NOTHING RETURNING *`,
        [p.id, p.scope, p.scopeId, p.reason, p.pausedBy, p.createdAt],
      ),
    );
    return rows.length ? toPause(rows[0]) : null;
  }

  async delete(id: string): Promise<void> {
    await this.db.tx.query(`DELETE FROM dispatch_pauses WHERE id = $1`, [id]);
  }

  /** Whether an entry of this provider and org is paused (the position view's reason). */
  async pausedFor(provider: string, orgId: string): Promise<boolean> {
    const [row]: { paused: boolean }[] = await this.db.tx.query(
      `WITH ${PAUSED_CTE} SELECT NOT (${notPaused('e.')}) AS paused FROM (SELECT $1::text AS provider, $2::uuid AS org_id) e`,
      [provider, orgId],
    );
    return row.paused;
  }

  async orgExists(orgId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.tx.query(`SELECT 1 FROM orgs WHERE id = $1 AND deleted_at IS NULL`, [orgId]);
    return rows.length > 0;
  }
}
