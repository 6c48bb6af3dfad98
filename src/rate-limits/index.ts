export { RateLimitsModule } from './rate-limits.module';
export { NO_RATE_LIMIT, NoRateLimit, RateLimit } from './rate-limit.decorator';
export { webhookRateLimit } from './webhook-rate-limit';
