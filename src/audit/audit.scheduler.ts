import { Injectable } from '@nestjs/common';
import { Cron } from '../scheduling';
import { AuditService } from './audit.service';

const AUDIT_RETENTION_TASK = 'audit_retention';

/** Transport only: the daily prune of audit rows past their retention. Idempotent, so every instance may run it. */
@Injectable()
export class AuditScheduler {
  constructor(private readonly audit: AuditService) {}

  @Cron('45 3 * * *', { name: AUDIT_RETENTION_TASK, timeZone: 'UTC' })
  prune(): Promise<number> {
    return this.audit.pruneExpired();
  }
}
