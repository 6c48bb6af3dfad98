import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProvidersModule } from '../providers';
import { Quota } from './quota.entity';
import { QuotaCheck } from './quota-check.service';
import { QuotaDispatchGate } from './dispatch-quotas';
import { QuotaCostThresholds } from './cost-thresholds';
import { QuotaMeter } from './quota-meter.service';
import { QuotasController, UsageController } from './quotas.controller';
import { QuotasMetrics } from './quotas.metrics';
import { QuotasRepository } from './quotas.repository';
import { QuotasService } from './quotas.service';
import { SpendRepository } from './spend.repository';
import { UsageService } from './usage.service';

/**
 * Spend governance: quotas (their rights, audit and cache), the submit's quota step (QuotaCheck, bound to the
 * submit pipeline by the app assembly), the claim's quota gate (QuotaDispatchGate, likewise), what quotas hold now, the usage report and the spend metrics.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Quota]), ProvidersModule],
  controllers: [QuotasController, UsageController],
  providers: [
    QuotasRepository,
    SpendRepository,
    QuotasService,
    QuotaMeter,
    QuotaCheck,
    QuotaDispatchGate,
    QuotaCostThresholds,
    UsageService,
    QuotasMetrics,
  ],
  exports: [QuotasService, QuotaCheck, QuotaDispatchGate, QuotaCostThresholds],
})
export class QuotasModule {}
