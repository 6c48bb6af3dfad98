import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type {
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import { getLogger } from '../logging';
import { Db } from './transaction-host';

const log = getLogger('simpletuner.cloud.database');

/**
 * Runs callbacks once the current transaction has committed, never if it rolls back (a wake-up, a notice to this
 * instance's listeners). Registered on the DataSource (TypeORM broadcasts transaction events to its subscribers).
 * A callback must not await the database: the query runner is not yet released (PGlite has one connection). It runs
 * outside the finished transaction (the rest of the request's context kept): work it starts, such as a woken
 * stream's next read, must not query through the committed transaction's connection, which is back in the pool and
 * may already serve someone else.
 */
@Injectable()
export class AfterCommit implements EntitySubscriberInterface, OnModuleInit, OnModuleDestroy {
  private readonly pending = new WeakMap<QueryRunner, Array<() => void>>();

  constructor(
    private readonly db: Db,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.dataSource.subscribers.push(this);
  }

  onModuleDestroy(): void {
    const i = this.dataSource.subscribers.indexOf(this);
    if (i >= 0) this.dataSource.subscribers.splice(i, 1);
  }

  /** Calls fn after the current transaction commits, or now when there is none. */
  run(fn: () => void): void {
    const runner = this.db.tx.queryRunner;
    if (!runner || !runner.isTransactionActive || runner.isReleased) return fn();
    const list = this.pending.get(runner);
    if (list) list.push(fn);
    else this.pending.set(runner, [fn]);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    // A savepoint release also broadcasts; only the outermost COMMIT makes the rows visible.
    if (runner.isTransactionActive) return;
    const list = this.pending.get(runner);
    if (!list) return;
    this.pending.delete(runner);
    for (const fn of list) {
      // The executor runs at once (the callback stays synchronous) and turns a throw into the rejection logged.
      const call = () =>
        new Promise<void>((resolve) => {
          fn();
          resolve();
        });
      this.db
        .withoutTransaction(call)
        .catch((error: unknown) => log.warning('An after-commit callback failed', { error }));
    }
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) this.pending.delete(event.queryRunner);
  }
}
