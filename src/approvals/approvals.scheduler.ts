import { Injectable } from '@nestjs/common';
import { Interval } from '../scheduling';
import { ApprovalsService } from './approvals.service';

const APPROVAL_EXPIRATION_TASK = 'approval_expiration';

/** Transport only: the expiry tick, every SIMPLETUNER_APPROVAL_CHECK_INTERVAL seconds (300 by default). */
@Injectable()
export class ApprovalsScheduler {
  constructor(private readonly approvals: ApprovalsService) {}

  // One instance per interval is enough; the claim uses SKIP LOCKED anyway, so overlap would be harmless.
  @Interval(APPROVAL_EXPIRATION_TASK, (config) => config.enterprise.approvalCheckInterval, { leader: true })
  expire(): Promise<{ expired: number }> {
    return this.approvals.expireDue();
  }
}
