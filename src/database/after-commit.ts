import type {
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

/**
 * Runs a callback once the transaction a manager belongs to has committed, never if it rolls back. Registered
 * on the DataSource at run time (TypeORM broadcasts transaction events to every subscriber of the connection).
 * The callback must not await the database: the query runner is not yet released (PGlite has one connection).
 */
export class AfterCommitHook implements EntitySubscriberInterface {
  private readonly pending = new WeakSet<QueryRunner>();

  constructor(private readonly onCommit: () => void) {}

  /** Calls onCommit after the manager's transaction commits, or now when the manager is not in one. */
  track(manager: EntityManager): void {
    const runner = manager.queryRunner;
    if (runner && runner.isTransactionActive && !runner.isReleased) this.pending.add(runner);
    else this.onCommit();
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    // A savepoint release also broadcasts; only the outermost COMMIT makes the rows visible.
    if (runner.isTransactionActive || !this.pending.has(runner)) return;
    this.pending.delete(runner);
    this.onCommit();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) this.pending.delete(event.queryRunner);
  }
}
