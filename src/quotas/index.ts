export { QuotasModule } from './quotas.module';
export { QuotasService } from './quotas.service';
export { QuotaCheck } from './quota-check.service';
export { QuotaDispatchGate } from './dispatch-quotas';
export { QuotaCostThresholds } from './cost-thresholds';
