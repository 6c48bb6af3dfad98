import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { BackgroundTaskManager } from '../scheduling';
import { ApprovalsService } from './approvals.service';

/** SPEC §7/§10: the expiry tick, every SIMPLETUNER_APPROVAL_CHECK_INTERVAL seconds (300 by default). */
@Injectable()
export class ApprovalsScheduler implements OnModuleInit {
  constructor(
    private readonly tasks: BackgroundTaskManager,
    private readonly config: AppConfig,
    private readonly approvals: ApprovalsService,
  ) {}

  onModuleInit(): void {
    this.tasks.registerInterval({
      name: 'approval_expiration',
      intervalSeconds: this.config.enterprise.approvalCheckInterval,
      // One instance per interval is enough; the claim uses SKIP LOCKED anyway, so overlap would be harmless.
      leader: true,
      run: () => this.approvals.expireDue(new Date()),
    });
  }
}
