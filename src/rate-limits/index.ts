export { RateLimitsModule } from './rate-limits.module';
export { RateLimit } from './rate-limit.decorator';
export { webhookRateLimit } from './webhook-rate-limit';
