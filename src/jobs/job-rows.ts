import type { DataSource, EntityManager } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { ApplyValueTransformers } from 'typeorm/util/ApplyValueTransformers';
import { Job } from './job.entity';

interface JobColumns {
  list: ColumnMetadata[];
  byProperty: Map<string, ColumnMetadata>;
  select: string;
}

const cache = new WeakMap<DataSource, JobColumns>();

/** The jobs table's columns, from the entity's metadata (read once per data source). */
export function jobColumns(manager: EntityManager): JobColumns {
  const known = cache.get(manager.connection);
  if (known) return known;
  const list = manager.connection.getMetadata(Job).columns.filter((c) => !c.isVirtual);
  const columns: JobColumns = {
    list,
    byProperty: new Map(list.map((c) => [c.propertyName, c])),
    select: list.map((c) => `"${c.databaseName}"`).join(', '),
  };
  cache.set(manager.connection, columns);
  return columns;
}

/**
 * Whole job rows by id, in job_id order (the lock order everywhere), optionally locked FOR UPDATE. Plain SQL
 * mapped through the entity's metadata: find() builds aliased SQL and hydrates through it, which costs
 * milliseconds on the queue's batches of 100.
 */
export async function readJobs(manager: EntityManager, jobIds: string[], lock = false): Promise<Job[]> {
  if (jobIds.length === 0) return [];
  const { list, select } = jobColumns(manager);
  const rows: Record<string, unknown>[] = await manager.query(
    `SELECT ${select} FROM jobs WHERE job_id = ANY($1::uuid[]) ORDER BY job_id${lock ? ' FOR UPDATE' : ''}`,
    [jobIds],
  );
  return rows.map((row) => {
    const job = new Job();
    for (const c of list) {
      const raw = row[c.databaseName];
      (job as unknown as Record<string, unknown>)[c.propertyName] = c.transformer ? ApplyValueTransformers.transformFrom(c.transformer, raw) : raw;
    }
    return job;
  });
}
