/**
 * bench:api's quota routes: (e) the submit of (c) with five quotas that apply to the bench user — one of each scope
 * that counts its jobs (user cost per day, org cost per month, the researcher level's and the global submissions per
 * day and per hour, the simulator provider's submissions per day), limits far above what the run submits — then
 * (c′) the plain submit again once they are gone. (c) and (c′) bracket (e): every submit adds a pending entry that
 * later submits rank against, so (e) is compared with their mean.
 */
const HUGE = 1_000_000_000;

export const QUOTAS = [
  { scope: 'user', type: 'cost_daily' },
  { scope: 'org', type: 'cost_monthly' },
  { scope: 'level', type: 'jobs_per_day' },
  { scope: 'global', type: 'jobs_per_hour' },
  { scope: 'provider', type: 'jobs_per_day' },
] as const;

async function call(base: string, key: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { 'X-API-Key': key, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const out = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** Creates the five quotas (as the bootstrap admin) for the bench user; returns their ids. */
export async function addQuotas(base: string, adminKey: string, userKey: string): Promise<string[]> {
  const me = await call(base, userKey, 'GET', '/api/users/me');
  const scopeId: Record<string, string | null> = {
    user: me.id,
    org: me.org_id,
    level: me.level,
    global: null,
    provider: 'simulator',
  };
  const ids: string[] = [];
  for (const q of QUOTAS) {
    const made = await call(base, adminKey, 'POST', '/api/quotas', {
      ...q,
      scope_id: scopeId[q.scope],
      limit: HUGE,
      action: 'block',
    });
    ids.push(made.id);
  }
  const mine = (await call(base, userKey, 'GET', '/api/quotas/me')) as { quota_id: string }[];
  if (ids.some((id) => !mine.some((m) => m.quota_id === id)))
    throw new Error('the bench quotas do not all apply to the bench user');
  return ids;
}

export async function removeQuotas(base: string, adminKey: string, ids: string[]): Promise<void> {
  for (const id of ids) await call(base, adminKey, 'DELETE', `/api/quotas/${id}`);
}
