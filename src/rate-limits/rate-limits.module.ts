import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateCounterRepository } from './rate-counter.repository';
import { RateLimitGuard } from './rate-limit.guard';

/** Inbound rate limits: a global guard that runs after authentication (import this module after AuthModule). */
@Module({
  providers: [RateCounterRepository, { provide: APP_GUARD, useClass: RateLimitGuard }],
})
export class RateLimitsModule {}
