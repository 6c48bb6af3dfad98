import { Injectable, OnModuleInit } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { BackgroundTaskManager } from '../scheduling';
import { AuditService } from './audit.service';

export const AUDIT_RETENTION_TASK = 'audit_retention';

/** Transport only: the daily prune of audit rows past their retention. Idempotent, so every instance may run it. */
@Injectable()
export class AuditScheduler implements OnModuleInit {
  constructor(
    private readonly audit: AuditService,
    private readonly tasks: BackgroundTaskManager,
  ) {}

  onModuleInit(): void {
    this.tasks.declare({ name: AUDIT_RETENTION_TASK, schedule: 'cron 45 3 * * * (UTC)' });
  }

  @Cron('45 3 * * *', { name: AUDIT_RETENTION_TASK, timeZone: 'UTC', waitForCompletion: true })
  async prune(): Promise<void> {
    await this.tasks.runTick(AUDIT_RETENTION_TASK, () => this.audit.pruneExpired(new Date()));
  }
}
