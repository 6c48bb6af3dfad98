import { Injectable } from '@nestjs/common';
import { AfterCommit } from './after-commit';
import { Db } from './transaction-host';

/**
 * One data-modifying statement a module's repository owns (`INSERT … RETURNING …`, its parameters numbered from
 * $1), to be run as one CTE of a combined statement with other modules' parts: a submit writes its job, queue entry,
 * approval request and events in one round trip, each part still written by the repository of its own table.
 */
export interface WritePart {
  sql: string;
  params: unknown[];
  /** Runs once the rows are visible to other sessions: after the commit, or at once when no transaction is open. */
  afterCommit?: () => void;
}

/** The rows each part returned, as JSON values (timestamps come back as ISO strings). */
export type CombinedRows<K extends string> = Record<K, Record<string, unknown>[]>;

/** Renumbers a part's `$n` placeholders after the parameters of the parts before it. */
function shift(sql: string, offset: number): string {
  return offset === 0 ? sql : sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
}

/**
 * Runs parts as one statement: `WITH a AS (…), b AS (…) SELECT <each part's rows as JSON>`. PostgreSQL runs every
 * data-modifying CTE once, against one snapshot, and checks foreign keys when the statement ends, so the order of the
 * parts does not matter to the database; alone (no transaction open) the statement is its own transaction.
 */
@Injectable()
export class CombinedWrites {
  constructor(
    private readonly db: Db,
    private readonly afterCommit: AfterCommit,
  ) {}

  async run<K extends string>(parts: Partial<Record<K, WritePart | null>>): Promise<CombinedRows<K>> {
    const { statement, entries, rowsOf } = this.compose(parts);
    const [row] = await this.db.tx.query<Record<string, unknown>[]>(statement.sql, statement.params);
    for (const [, part] of entries) if (part.afterCommit) this.afterCommit.run(part.afterCommit);
    return rowsOf([row]);
  }

  /** The parts as one statement (not run), the parts it holds, and how to read its one row. */
  compose<K extends string>(parts: Partial<Record<K, WritePart | null>>) {
    const entries = Object.entries(parts).filter((e): e is [K, WritePart] => Boolean(e[1]));
    const params: unknown[] = [];
    const ctes: string[] = [];
    for (const [name, part] of entries) {
      ctes.push(`"${name}" AS (${shift(part.sql, params.length)})`);
      params.push(...part.params);
    }
    const columns = entries.map(([name]) => `(SELECT coalesce(json_agg(r), '[]') FROM "${name}" r) AS "${name}"`);
    return {
      statement: { sql: `WITH ${ctes.join(', ')} SELECT ${columns.join(', ')}`, params },
      entries,
      rowsOf: (rows: unknown[]) => rows[0] as CombinedRows<K>,
    };
  }
}
