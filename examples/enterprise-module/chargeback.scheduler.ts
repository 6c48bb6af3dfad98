import { Injectable } from '@nestjs/common';
import { Cron } from '../../src/scheduling';
import { ChargebackService } from './chargeback.service';

export const CHARGEBACK_CLOSE_TASK = 'enterprise_chargeback_close';

/**
 * The enterprise build's scheduled task, declared exactly as core ones are: listed by GET
 * /api/cloud/background-tasks, run through the shared tick wrapper, drained on shutdown. The totals live in each
 * instance's memory, so each instance closes its own month (no leader).
 */
@Injectable()
export class ChargebackScheduler {
  constructor(private readonly chargeback: ChargebackService) {}

  @Cron('5 0 1 * *', { name: CHARGEBACK_CLOSE_TASK, timeZone: 'UTC' })
  closeMonth(): number {
    return this.chargeback.closeMonth();
  }
}
