import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { UserLevel } from './user.entity';
import type { AuthenticatedUser } from './authenticated-user';

export const IS_PUBLIC = 'auth:public';
export const MIN_LEVEL = 'auth:minLevel';

/** No API key needed (health, metrics, the signed webhook). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The lowest level allowed; routes without it are admin-only. */
export const MinLevel = (level: UserLevel) => SetMetadata(MIN_LEVEL, level);

export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthenticatedUser => {
  return ctx.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user;
});
