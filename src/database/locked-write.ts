import { Injectable } from '@nestjs/common';
import * as pg from 'pg';
import { escapeLiteral, type Pool, type QueryResult } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { advisoryKey } from './advisory-lock';
import { AfterCommit } from './after-commit';
import { CombinedWrites, type CombinedRows, type WritePart } from './combined-write';
import { Db } from './transaction-host';

/** A statement with its parameters numbered from $1. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** What `decide` hands back: the parts to write, and whether what they returned may commit (default: yes). */
export interface LockedWritePlan<K extends string> {
  parts: Partial<Record<K, WritePart | null>>;
  commitIf?: (rows: CombinedRows<K>) => boolean;
}

/** The write's rows did not pass `commitIf`: the transaction rolled back. */
export class LockedWriteAbandoned<K extends string> extends Error {
  constructor(readonly rows: CombinedRows<K>) {
    super('The locked write was rolled back');
  }
}

/**
 * A parameter as a literal with the meaning it has as a bound parameter: the text the driver would send, quoted,
 * so that PostgreSQL types it from its context exactly as it types an untyped parameter.
 */
/** The driver's own conversion of a parameter to the text it sends (not in its type declarations). */
const { prepareValue } = (pg as unknown as { utils: { prepareValue: (v: unknown) => string | Buffer | null } }).utils;

function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  const text = prepareValue(v);
  if (text === null) return 'NULL';
  return Buffer.isBuffer(text) ? `'\\x${text.toString('hex')}'` : escapeLiteral(text);
}

function inlineParams({ sql, params }: Statement): string {
  return sql.replace(/\$(\d+)\b/g, (_, n: string) => literal(params[Number(n) - 1]));
}

/**
 * Read, decide and write in one transaction serialised by transaction-level advisory locks, in two messages to the
 * database on a pooled connection of its own: `BEGIN; lock; lock; reads` and, once `decide` has chosen the rows,
 * `write; COMMIT`. The locks are held from the first message to the COMMIT, so the time another transaction waits on
 * them is one round trip and the decision, not the six round trips TypeORM's transaction would take (each waiting
 * for the database's turn on a busy host). Each statement of a message takes its own snapshot: the read sees every
 * write committed before the locks were granted. A message of several statements cannot carry bound parameters,
 * so parameters are written in as literals (inlineParams). `decide` gets each read's rows and is synchronous: it runs
 * while the locks and a pooled connection are held, and a query of its own would need another connection of the
 * same pool — which other writers waiting on the same locks may all hold (they would wait forever). Throwing rolls
 * back. With `commitIf`, the write and the COMMIT
 * go as two messages, and rows that fail it roll back (LockedWriteAbandoned).
 */
@Injectable()
export class LockedWrites {
  constructor(
    private readonly db: Db,
    private readonly writes: CombinedWrites,
    private readonly afterCommit: AfterCommit,
  ) {}

  async run<K extends string>(
    lockKeys: string[],
    reads: Statement[],
    decide: (rows: unknown[][]) => LockedWritePlan<K>,
  ): Promise<CombinedRows<K>> {
    const client = await this.pool().connect();
    let broken: Error | undefined;
    try {
      const first = (await client.query(
        `BEGIN; ${locks(lockKeys)}${reads.map(inlineParams).join('; ')}`,
      )) as unknown as QueryResult[];
      const plan = decide(first.slice(first.length - reads.length).map((r) => r.rows as unknown[]));
      const { statement, entries, rowsOf } = this.writes.compose(plan.parts);
      const write = inlineParams(statement);
      let rows: CombinedRows<K>;
      if (!plan.commitIf) {
        rows = rowsOf(((await client.query(`${write}; COMMIT`)) as unknown as QueryResult[])[0].rows);
      } else {
        rows = rowsOf((await client.query(write)).rows);
        if (!plan.commitIf(rows)) throw new LockedWriteAbandoned(rows);
        await client.query('COMMIT');
      }
      for (const [, part] of entries) if (part.afterCommit) this.afterCommit.run(part.afterCommit);
      return rows;
    } catch (err) {
      broken = await client.query('ROLLBACK').then(
        () => undefined,
        (e: Error) => e,
      );
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Several reads in one message on a pooled connection, without locks or an explicit transaction. */
  async read(reads: Statement[]): Promise<unknown[][]> {
    const results = await this.pool().query(reads.map(inlineParams).join('; '));
    const list = (Array.isArray(results) ? results : [results]) as QueryResult[];
    return list.map((r) => r.rows as unknown[]);
  }

  /**
   * The write in one message under the locks, if `guard` (a statement that fails with SQLSTATE QU001 when what the
   * write was decided from no longer holds) passes: `BEGIN; lock; lock; guard; write; COMMIT`. The locks are held for
   * the server's work only. Null when the guard failed (everything rolled back: decide again under the locks).
   */
  async tryGuarded<K extends string>(
    lockKeys: string[],
    guard: Statement,
    plan: LockedWritePlan<K>,
  ): Promise<CombinedRows<K> | null> {
    const client = await this.pool().connect();
    let broken: Error | undefined;
    try {
      const { statement, entries, rowsOf } = this.writes.compose(plan.parts);
      const head = `BEGIN; ${locks(lockKeys)}${inlineParams(guard)}; ${inlineParams(statement)}`;
      let rows: CombinedRows<K>;
      if (!plan.commitIf) {
        const results = (await client.query(`${head}; COMMIT`)) as unknown as QueryResult[];
        rows = rowsOf(results[results.length - 2].rows);
      } else {
        const results = (await client.query(head)) as unknown as QueryResult[];
        rows = rowsOf(results[results.length - 1].rows);
        if (!plan.commitIf(rows)) throw new LockedWriteAbandoned(rows);
        await client.query('COMMIT');
      }
      for (const [, part] of entries) if (part.afterCommit) this.afterCommit.run(part.afterCommit);
      return rows;
    } catch (err) {
      broken = await client.query('ROLLBACK').then(
        () => undefined,
        (e: Error) => e,
      );
      if ((err as { code?: string }).code === GUARD_FAILED) return null;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  private pool(): Pool {
    if (this.db.tx.queryRunner?.isTransactionActive) throw new Error('A locked write runs in a transaction of its own');
    return (this.db.tx.connection.driver as PostgresDriver).master as Pool;
  }
}

/** The SQLSTATE of quota_guard() (migration Quotas1764700000000) when what a write was decided from changed. */
const GUARD_FAILED = 'QU001';

function locks(keys: string[]): string {
  return keys.map((k) => `SELECT pg_advisory_xact_lock(${advisoryKey(k)}); `).join('');
}
