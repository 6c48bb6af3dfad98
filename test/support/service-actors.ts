import type { INestApplicationContext } from '@nestjs/common';
import { ApprovalRulesService } from '../../src/approvals/approval-rules.service';
import { AuthService, AuthenticatedUser, UserLevel } from '../../src/auth';
import { UsersService } from '../../src/auth/users.service';
import { AppError } from '../../src/common/errors';
import { generateCorrelationId, runWithCorrelationId } from '../../src/context';

/**
 * People for service-level tests, made through the services the admin routes call: each actor is what the auth
 * guard hands a route for that person's key (its level, organisation and key id), so access rules apply as over HTTP.
 */

/** The caller a key stands for, as the auth guard resolves it; fails on a key the app refuses. */
export async function actorFor(ctx: INestApplicationContext, key: string): Promise<AuthenticatedUser> {
  const user = await ctx.get(AuthService).authenticate(key);
  if (!user) throw new Error('the key was refused');
  return user;
}

export async function createOrg(ctx: INestApplicationContext, admin: AuthenticatedUser, name: string): Promise<string> {
  return (await ctx.get(UsersService).createOrg(admin, name)).id;
}

/** A user of `level` in `orgId` with an API key, made by `admin`; returned as the caller that key stands for. */
export async function createActor(
  ctx: INestApplicationContext,
  admin: AuthenticatedUser,
  username: string,
  level: UserLevel,
  orgId: string,
): Promise<AuthenticatedUser> {
  const users = ctx.get(UsersService);
  const user = await users.create(admin, { username, level, org_id: orgId });
  const { key } = await users.createKey(admin, user.id, {});
  return actorFor(ctx, key);
}

/** Turns a seeded default rule on or off, as PATCH /api/approvals/rules/:id does. */
export async function setRuleActive(
  ctx: INestApplicationContext,
  admin: AuthenticatedUser,
  name: string,
  active: boolean,
): Promise<void> {
  const rules = ctx.get(ApprovalRulesService);
  const rule = (await rules.list()).find((r) => r.name === name);
  if (!rule) throw new Error(`no rule ${name}`);
  await rules.update(admin, rule.id, { is_active: active });
}

/**
 * Runs fn as the request edge runs a route: in a fresh context under a correlation id of its own, which the work's
 * rows and log lines carry (what the `x-correlation-id` response header names).
 */
export async function asRequest<T>(fn: () => Promise<T>): Promise<{ result: T; correlationId: string }> {
  const correlationId = generateCorrelationId();
  return { result: await runWithCorrelationId(correlationId, fn), correlationId };
}

/** The status a route answers for this service call: 200 when it succeeds, the project error's status when not. */
export function statusOf(call: Promise<unknown>): Promise<number> {
  return call.then(
    () => 200,
    (err: unknown) => {
      if (err instanceof AppError) return err.status;
      throw err;
    },
  );
}
