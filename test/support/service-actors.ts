import type { INestApplicationContext } from '@nestjs/common';
import { ApprovalRulesService } from '../../src/approvals/approval-rules.service';
import { AuthService, AuthenticatedUser, UserLevel } from '../../src/auth';
import { UsersService } from '../../src/auth/users.service';

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
