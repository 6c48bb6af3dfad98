import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { Clock } from '../common/clock';
import { AppConfig } from '../config';
import { MemoryRateLimiter } from './memory-rate-limiter';
import { RateCounterRepository } from './rate-counter.repository';
import { NO_RATE_LIMIT, ROUTE_LIMIT, type RouteLimit } from './rate-limit.decorator';
import { limitExceeded, setRateLimitHeaders, type LimitState } from './rate-limit-state';
import { SharedRateLimiter } from './shared-rate-limiter';

interface Limiter {
  hit(subject: string): Promise<LimitState>;
}

/**
 * Global guard after authentication: every request counts against the general limit
 * (SIMPLETUNER_RATE_LIMIT_PER_MINUTE, per instance) of its caller — the API key, the signed-in person of a browser
 * session, or the client address when anonymous (the sign-in routes; health probes and metric scrapes are not
 * limited: @NoRateLimit); a route with @RateLimit also against its
 * own (submit: in the database, across instances). The response carries the RateLimit-* headers of the tighter
 * limit; past either, 429 `rate_limit_exceeded` with Retry-After. A limit of 0 is off. The provider webhook is
 * limited per client address at the edge, before its body is read (webhookRateLimit); the documentation routes
 * serve static files and are not limited.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly general: Limiter | null;
  private readonly routes: Partial<Record<RouteLimit, Limiter>> = {};

  constructor(
    private readonly reflector: Reflector,
    config: AppConfig,
    counters: RateCounterRepository,
    clock: Clock,
  ) {
    const env = config.env;
    this.general = env.SIMPLETUNER_RATE_LIMIT_PER_MINUTE
      ? new MemoryRateLimiter('general', env.SIMPLETUNER_RATE_LIMIT_PER_MINUTE)
      : null;
    if (env.SIMPLETUNER_RATE_LIMIT_SUBMIT_PER_MINUTE) {
      this.routes.submit = new SharedRateLimiter(
        counters,
        clock,
        'submit',
        env.SIMPLETUNER_RATE_LIMIT_SUBMIT_PER_MINUTE,
      );
    }
    if (env.SIMPLETUNER_RATE_LIMIT_UPLOADS_PER_MINUTE) {
      this.routes.uploads = new MemoryRateLimiter('uploads', env.SIMPLETUNER_RATE_LIMIT_UPLOADS_PER_MINUTE);
    }
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<Request & { user?: { id: string; apiKeyId: string | null } }>();
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(NO_RATE_LIMIT, targets)) return true;
    const route = this.reflector.getAllAndOverride<RouteLimit | undefined>(ROUTE_LIMIT, targets);
    const res = ctx.switchToHttp().getResponse<Response>();
    const subject = callerOf(req);
    const general = this.general ? await this.general.hit(subject) : null;
    if (general?.exceeded) {
      setRateLimitHeaders(res, general);
      throw limitExceeded('requests', general);
    }
    const own = route ? await this.routes[route]?.hit(subject) : undefined;
    const shown = own ?? general;
    if (shown) setRateLimitHeaders(res, shown);
    if (own?.exceeded) throw limitExceeded(`${route} requests`, own);
    return true;
  }
}

/** Whose allowance a request uses: its API key, else its session's person, else its (trusted-proxy) address. */
function callerOf(req: Request & { user?: { id: string; apiKeyId: string | null } }): string {
  if (req.user?.apiKeyId) return `key:${req.user.apiKeyId}`;
  if (req.user) return `user:${req.user.id}`;
  return `ip:${req.ip ?? 'unknown'}`;
}
