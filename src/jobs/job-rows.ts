import type { DataSource, EntityManager } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { ApplyValueTransformers } from 'typeorm/util/ApplyValueTransformers';
import { Job } from './job.entity';

/** Written once at submit and never changed: a caller holding a fresh copy of the job need not read them again. */
const SET_AT_SUBMIT = new Set<string>(['config']);

interface ColumnSet {
  list: ColumnMetadata[];
  select: string;
}

interface JobColumns {
  all: ColumnSet;
  /** Every column but those SET_AT_SUBMIT (the training config can be kilobytes of JSON per job). */
  mutable: ColumnSet;
  byProperty: Map<string, ColumnMetadata>;
}

const cache = new WeakMap<DataSource, JobColumns>();

const columnSet = (list: ColumnMetadata[]): ColumnSet => ({
  list,
  select: list.map((c) => `"${c.databaseName}"`).join(', '),
});

/** The jobs table's columns, from the entity's metadata (read once per data source). */
export function jobColumns(manager: EntityManager): JobColumns {
  const known = cache.get(manager.connection);
  if (known) return known;
  const list = manager.connection.getMetadata(Job).columns.filter((c) => !c.isVirtual);
  const columns: JobColumns = {
    all: columnSet(list),
    mutable: columnSet(list.filter((c) => !SET_AT_SUBMIT.has(c.propertyName))),
    byProperty: new Map(list.map((c) => [c.propertyName, c])),
  };
  cache.set(manager.connection, columns);
  return columns;
}

/**
 * Whole job rows by id, in job_id order (the lock order everywhere), optionally locked FOR UPDATE. Plain SQL
 * mapped through the entity's metadata: find() builds aliased SQL and hydrates through it, which costs
 * milliseconds on the queue's batches of 100. With `copies`, the columns set at submit come from those instead.
 */
export async function readJobs(
  manager: EntityManager,
  jobIds: string[],
  lock = false,
  copies?: Map<string, Job>,
): Promise<Job[]> {
  if (jobIds.length === 0) return [];
  const columns = jobColumns(manager);
  const { list, select } = copies ? columns.mutable : columns.all;
  const rows: Record<string, unknown>[] = await manager.query(
    `SELECT ${select} FROM jobs WHERE job_id = ANY($1::uuid[]) ORDER BY job_id${lock ? ' FOR UPDATE' : ''}`,
    [jobIds],
  );
  return rows.map((row) => {
    const job = new Job();
    const copy = copies?.get(row.job_id as string);
    if (copies && !copy)
      throw new Error(`readJobs: no copy of job ${String(row.job_id)} to take its submit-time columns from`);
    if (copy)
      for (const property of SET_AT_SUBMIT)
        (job as unknown as Record<string, unknown>)[property] = (copy as unknown as Record<string, unknown>)[property];
    for (const c of list) {
      const raw = row[c.databaseName];
      (job as unknown as Record<string, unknown>)[c.propertyName] = c.transformer
        ? ApplyValueTransformers.transformFrom(c.transformer, raw)
        : raw;
    }
    return job;
  });
}
