import { DataSource } from 'typeorm';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * A bad-input corpus over every route: NUL in strings, deep nesting, huge and non-numeric numbers, wrong types,
 * over-long strings and arrays, malformed ids and headers. Every answer must be a 4xx in the error shape naming
 * the problem: a value the database or a library rejects is never a 500.
 */
const NUL = 'a\u0000b';
const LONG = 'x'.repeat(10_000);
const deep = (levels: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = { d: v };
  return v;
};

interface Route {
  method: string;
  path: string;
  /** A valid body; the corpus breaks one field at a time. */
  body?: Record<string, unknown>;
  /** Query parameters the route reads. */
  query?: string[];
}

/** Each field of a body replaced by values of the wrong kind. */
function bodyMutations(body: Record<string, unknown>): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [
    ['unknown field', { ...body, surprise: 1 }],
    ['array body', [body]],
    ['nested 100 deep', { ...body, ...(deep(100) as object) }],
  ];
  for (const key of Object.keys(body)) {
    for (const [what, value] of [
      ['NUL', NUL],
      ['long string', LONG],
      ['huge number', 1e308],
      ['20-digit number', 1e20],
      ['negative', -1],
      ['object', { a: 1 }],
      ['array', Array.from({ length: 1000 }, () => 'viewer')],
      ['deep', deep(100)],
    ] as const) {
      if (JSON.stringify(body[key]) === JSON.stringify(value)) continue;
      if (key === 'config' && what === 'object') continue; // any object is a valid config
      out.push([`${key}: ${what}`, { ...body, [key]: value }]);
    }
  }
  if (body.config) {
    out.push(['NUL inside config', { ...body, config: { deep: { k: NUL } } }]);
    out.push(['NUL in a config key', { ...body, config: { [NUL]: 1 } }]);
    out.push(['config 65 deep', { ...body, config: deep(65) }]);
  }
  return out;
}

const VALID_MUTATIONS = [
  'POST /api/approvals/rules (priority: negative)',
  'PATCH /api/approvals/rules/:id (priority: negative)',
];

const QUERY_VALUES = ['%00', 'a%00b', '-1', '0', '501', 'abc', '1e30', '99999999999999999999', '1.5', LONG];
const BAD_IDS = ['%00', 'not-a-uuid', 'x'.repeat(3000), '00000000-0000-0000-0000-00000000000g'];

/** Like http(), but a stream that opens (SSE answered 200) is closed at once and reported as 200. */
async function probe(
  baseUrl: string,
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  if (!path.startsWith('/api/events')) return http(baseUrl, method, path, { key, body });
  const res = await fetch(baseUrl + path, { headers: { 'X-API-Key': key } });
  if (res.status === 200) {
    await res.body?.cancel();
    return { status: 200, body: null };
  }
  return { status: res.status, body: await res.json() };
}

describe('bad input never makes a 5xx', () => {
  let app: TestApp;
  let db: DataSource;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
    db = app.app.get(DataSource);
    const me = await http(app.url, 'GET', '/api/users/me', { key: app.adminKey });
    ids.user = me.body.id;
    const job = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'corpus', config: { steps: 1 } },
    });
    ids.job = job.body.job_id;
    const rule = await http(app.url, 'POST', '/api/approvals/rules', {
      key: app.adminKey,
      body: { name: 'corpus', condition: 'cost_exceeds', threshold: 1000 },
    });
    ids.rule = rule.body.id;
    const key = await http(app.url, 'POST', `/api/users/${ids.user}/api-keys`, { key: app.adminKey, body: {} });
    ids.key = key.body.id;
  });
  afterAll(() => app?.stop());

  const routes = (): Route[] => [
    { method: 'POST', path: '/api/users', body: { username: 'corpus_user', level: 'viewer' } },
    { method: 'GET', path: '/api/users' },
    { method: 'PATCH', path: `/api/users/${ids.user}`, body: { email: 'a@b.co' } },
    { method: 'POST', path: '/api/orgs', body: { name: 'corpus org' } },
    {
      method: 'POST',
      path: `/api/users/${ids.user}/api-keys`,
      body: { name: 'k', expires_at: '2099-01-01T00:00:00Z' },
    },
    {
      method: 'POST',
      path: '/api/cloud/jobs/submit',
      body: {
        config_name: 'c',
        config: { steps: 1 },
        provider: 'simulator',
        hardware_profile: 'l40s',
        priority: 10,
        idempotency_key: 'k1',
        max_runtime_seconds: 3600,
      },
    },
    { method: 'GET', path: '/api/cloud/jobs', query: ['status', 'provider', 'limit', 'offset'] },
    { method: 'GET', path: '/api/cloud/cost-estimate', query: ['hardware_profile'] },
    {
      method: 'PUT',
      path: '/api/cloud/providers/simulator/config',
      body: { webhook_url: 'https://x.example/hook', version_override: 'v', hardware_info: { l40s: 0.001 } },
    },
    { method: 'PUT', path: '/api/cloud/polling/setting', body: { enabled: true } },
    { method: 'GET', path: '/api/queue', query: ['status', 'limit', 'offset'] },
    { method: 'POST', path: `/api/queue/${ids.job}/priority`, body: { priority: 10 } },
    { method: 'PUT', path: '/api/queue/concurrency', body: { max_concurrent: 5, user_max_concurrent: 2 } },
    { method: 'GET', path: '/api/approvals/requests', query: ['status', 'limit', 'offset'] },
    {
      method: 'POST',
      path: '/api/approvals/rules',
      body: { name: 'r', condition: 'cost_exceeds', threshold: 10, priority: 1, exempt_levels: ['admin'] },
    },
    { method: 'PATCH', path: `/api/approvals/rules/${ids.rule}`, body: { threshold: 20, priority: 2 } },
    { method: 'GET', path: '/api/events', query: ['job_id', 'types', 'last_event_id'] },
  ];

  const idRoutes = (): Array<[string, string]> => [
    ['GET', '/api/cloud/jobs/:id'],
    ['POST', '/api/cloud/jobs/:id/cancel'],
    ['DELETE', '/api/cloud/jobs/:id'],
    ['GET', '/api/queue/position/:id'],
    ['POST', '/api/queue/:id/priority'],
    ['PATCH', '/api/users/:id'],
    ['POST', '/api/users/:id/api-keys'],
    ['DELETE', '/api/api-keys/:id'],
    ['GET', '/api/approvals/requests/:id'],
    ['POST', '/api/approvals/requests/:id/approve'],
    ['POST', '/api/approvals/requests/:id/reject'],
    ['POST', '/api/approvals/requests/:id/cancel'],
    ['PATCH', '/api/approvals/rules/:id'],
    ['DELETE', '/api/approvals/rules/:id'],
    ['GET', '/api/cloud/providers/:id/config'],
  ];

  function expectClientError(what: string, res: { status: number; body: any }): void {
    const ok = res.status >= 400 && res.status < 500 && typeof res.body?.error === 'string' && res.body.message;
    if (!ok) throw new Error(`${what}: got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    if (res.status === 400 && !res.body.details) throw new Error(`${what}: a 400 without details naming the field`);
  }

  it('answers every broken body field with a 4xx naming it', async () => {
    let checked = 0;
    const accepted: string[] = [];
    for (const route of routes()) {
      if (!route.body) continue;
      for (const [what, body] of bodyMutations(route.body)) {
        const res = await http(app.url, route.method, route.path, { key: app.adminKey, body });
        const label = `${route.method} ${route.path.replace(/[0-9a-f-]{36}/, ':id')} (${what})`;
        if (res.status < 300) accepted.push(label);
        else expectClientError(label, res);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(150);
    // The only mutations that are valid input: a negative rule priority (rules may rank below the defaults).
    expect(accepted).toEqual(VALID_MUTATIONS);
  });

  it('names the field that holds a NUL, however deep', async () => {
    const res = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'n', config: { deep: { k: NUL } } },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_error', details: { 'config.deep.k': expect.any(String) } });
    const reason = await http(app.url, 'GET', '/api/cloud/jobs?provider=a%00b', { key: app.adminKey });
    expect(reason.body).toMatchObject({ error: 'validation_error', details: { provider: expect.any(String) } });
  });

  it('answers every broken query parameter and path id with a 4xx', async () => {
    for (const route of routes()) {
      for (const name of route.query ?? []) {
        for (const value of QUERY_VALUES) {
          const res = await probe(app.url, route.method, `${route.path}?${name}=${value}`, app.adminKey);
          // Some values are valid for some parameters (limit=1.5 is not, provider=abc is): only 5xx is wrong.
          if (res.status < 400) continue;
          expectClientError(`${route.method} ${route.path}?${name}=${value.slice(0, 30)}`, res);
        }
        const repeated = await probe(app.url, route.method, `${route.path}?${name}=1&${name}=2`, app.adminKey);
        if (repeated.status >= 400) expectClientError(`${route.path} repeated ${name}`, repeated);
      }
    }
    for (const [method, pattern] of idRoutes()) {
      for (const id of BAD_IDS) {
        const body = method === 'GET' || method === 'DELETE' ? undefined : {};
        const res = await http(app.url, method, pattern.replace(':id', id), { key: app.adminKey, body });
        expectClientError(`${method} ${pattern} with ${id.slice(0, 30)}`, res);
      }
    }
  });

  it('refuses a body nested 5,000 deep while keeping /health/live fast', async () => {
    const body = '['.repeat(500_000) + ']'.repeat(500_000);
    const floods = Array.from({ length: 6 }, () =>
      http(app.url, 'POST', '/api/cloud/jobs/submit', { key: app.adminKey, rawBody: body }),
    );
    const started = Date.now();
    const live = await http(app.url, 'GET', '/health/live');
    const liveMs = Date.now() - started;
    const answers = await Promise.all(floods);
    expect(live.status).toBe(200);
    expect(liveMs).toBeLessThan(1000);
    for (const a of answers) {
      expect(a.status).toBe(400);
      expect(a.body).toMatchObject({ error: 'validation_error', details: { body: expect.stringContaining('64') } });
    }
    expect((await http(app.url, 'GET', '/health/ready')).status).toBe(200);
  });

  it('answers bad header values with a 4xx', async () => {
    const sse = await http(app.url, 'GET', '/api/events', { key: app.adminKey, headers: { 'Last-Event-ID': 'abc' } });
    expectClientError('Last-Event-ID abc', sse);
    const auth = await http(app.url, 'GET', '/api/users/me', { headers: { Authorization: `Bearer ${LONG}` } });
    expectClientError('a 10,000-character bearer token', auth);
  });

  it('lists jobs whose stored config is 2,000 levels deep (written before the limit existed)', async () => {
    await db.query(`UPDATE jobs SET config = $1::jsonb WHERE job_id = $2`, [JSON.stringify(deep(2000)), ids.job]);
    const list = await http(app.url, 'GET', '/api/cloud/jobs', { key: app.adminKey });
    expect(list.status).toBe(200);
    const one = await http(app.url, 'GET', `/api/cloud/jobs/${ids.job}`, { key: app.adminKey });
    expect(one.status).toBe(200);
    expect(JSON.stringify(one.body.config)).toContain('[TRUNCATED]');
  });
});
