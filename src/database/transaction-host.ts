import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';

/**
 * What repositories query through: `tx` is the EntityManager of the transaction the caller's unit of work opened
 * (`@Transactional()` on a service method, carried in CLS), or the plain one outside any transaction. So no
 * EntityManager travels through service signatures, and a repository joins whatever transaction is open.
 */
export type Db = TransactionHost<TransactionalAdapterTypeOrm>;
export const Db = TransactionHost;

/** TypeORM's postgres driver answers `UPDATE … RETURNING` / `DELETE … RETURNING` with [rows, affected]. */
export function returnedRows<T>(result: unknown): T[] {
  const r = result as unknown[];
  return (Array.isArray(r[0]) ? r[0] : r) as T[];
}

/** Rows an UPDATE or DELETE without RETURNING touched. */
export function affectedRows(result: unknown): number {
  const r = result as unknown[];
  return Array.isArray(r) && typeof r[1] === 'number' ? r[1] : 0;
}
