import { http } from './http';
import type { TestApp } from './test-app';

export interface Actor {
  id: string;
  key: string;
  orgId: string;
}

/** A user of `level` in `orgId` with an API key, made by the admin over HTTP. */
export async function makeUser(app: TestApp, username: string, level: string, orgId: string): Promise<Actor> {
  const user = await http(app.url, 'POST', '/api/users', {
    key: app.adminKey,
    body: { username, level, org_id: orgId },
  });
  if (user.status !== 201) throw new Error(`user ${username}: ${user.status} ${user.text}`);
  const key = await http(app.url, 'POST', `/api/users/${user.body.id}/api-keys`, { key: app.adminKey, body: {} });
  return { id: user.body.id, key: key.body.key, orgId };
}

export async function makeOrg(app: TestApp, name: string): Promise<string> {
  const org = await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name } });
  if (org.status !== 201) throw new Error(`org ${name}: ${org.status} ${org.text}`);
  return org.body.id;
}

/** Turns a seeded default rule on or off through the admin API. */
export async function setRuleActive(app: TestApp, name: string, active: boolean): Promise<void> {
  const rules = await http(app.url, 'GET', '/api/approvals/rules', { key: app.adminKey });
  const rule = rules.body.rules.find((r: { name: string }) => r.name === name);
  if (!rule) throw new Error(`no rule ${name}`);
  const res = await http(app.url, 'PATCH', `/api/approvals/rules/${rule.id}`, {
    key: app.adminKey,
    body: { is_active: active },
  });
  if (res.status !== 200) throw new Error(`PATCH rule ${name}: ${res.status} ${res.text}`);
}

/** h100 at $0.001525/s for 40,000 s ≈ $61: over the $50 "High Cost Jobs" threshold. */
export const EXPENSIVE = { hardware_profile: 'h100', config: { estimated_duration_seconds: 40_000 } };
/** l40s for 60 s: a few cents. */
export const CHEAP = { hardware_profile: 'l40s', config: { estimated_duration_seconds: 60 } };

export async function submit(app: TestApp, key: string, body: Record<string, unknown>) {
  return http(app.url, 'POST', '/api/cloud/jobs/submit', { key, body: { config_name: 'lora-test', ...body } });
}
