import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { generateApiKey } from '../../src/auth/api-key.util';
import { makeUser } from '../support/approval-fixtures';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http, HttpResult } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The errors the document gives every route of a kind — they come from the edge and the guard, not the route — are
 * produced here on every documented operation, read from the served document itself: no key (401), a level too
 * low (403), a malformed or oversized body (400, 413), a bad parameter (400), a throttled address (429) and the
 * request timeout (503). Each answer is also checked against the document by the contract reporter.
 */
interface Operation {
  method: string;
  template: string;
  op: {
    security?: unknown[];
    requestBody?: unknown;
    parameters?: Array<{ name?: string; in?: string }>;
    responses: Record<string, unknown>;
    'x-min-level'?: string;
  };
}

async function operations(app: TestApp): Promise<Operation[]> {
  const doc = (await http(app.url, 'GET', '/api/openapi.json')).body;
  const out: Operation[] = [];
  for (const [template, item] of Object.entries<Record<string, Operation['op']>>(doc.paths)) {
    for (const [method, op] of Object.entries(item)) out.push({ method: method.toUpperCase(), template, op });
  }
  return out;
}

const keyed = (o: Operation) => (o.op.security ?? []).length > 0;
/** Takes a JSON body (an upload's raw archive body meets no JSON parser: its errors are its own route's). */
const jsonBody = (o: Operation) =>
  'application/json' in ((o.op.requestBody as { content?: object } | undefined)?.content ?? {});
const pathOf = (template: string) =>
  template.replace(/\{(\w+)\}/g, (_m, name: string) =>
    name === 'name' ? 'simulator' : name === 'file' ? 'none.js' : randomUUID(),
  );

const bodyFor = (method: string) => (method === 'GET' || method === 'DELETE' ? undefined : {});

/** Sends every request at once and lists those whose status is not `expected`. */
async function expectStatus(
  expected: number,
  requests: Array<[string, Promise<HttpResult>]>,
  check: (res: HttpResult) => boolean = () => true,
): Promise<string[]> {
  const answers = await Promise.all(requests.map(async ([label, p]) => [label, await p] as const));
  return answers
    .filter(([, res]) => res.status !== expected || !check(res))
    .map(([label, res]) => `${label}: ${res.status} ${res.text.slice(0, 160)}`);
}

describe('errors every route of a kind can give', () => {
  let app: TestApp;
  let ops: Operation[];

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600', SIMPLETUNER_AUTH_FAILURE_LIMIT: '1' } });
    ops = await operations(app);
  });
  afterAll(() => app?.stop());

  it('answers 401 without a key on every keyed route', async () => {
    const keyedOps = ops.filter(keyed);
    expect(keyedOps.length).toBeGreaterThan(35);
    const wrong = await expectStatus(
      401,
      keyedOps.map((o) => [`${o.method} ${o.template}`, http(app.url, o.method, pathOf(o.template))]),
      (res) => res.body?.error === 'authentication_error',
    );
    expect(wrong).toEqual([]);
  });

  it('answers 403 to a viewer on every route above viewer level', async () => {
    const me = await http(app.url, 'GET', '/api/users/me', { key: app.adminKey });
    const viewer = await makeUser(app, 'sweep_viewer', 'viewer', me.body.org_id);
    const above = ops.filter((o) => keyed(o) && o.op['x-min-level'] !== 'viewer');
    expect(above.length).toBeGreaterThan(20);
    const wrong = await expectStatus(
      403,
      above.map((o) => [`${o.method} ${o.template}`, http(app.url, o.method, pathOf(o.template), { key: viewer.key })]),
      (res) => res.body?.error === 'permission_denied',
    );
    expect(wrong).toEqual([]);
  });

  it('answers 400 to malformed JSON and 413 to a body over 1 MiB on every keyed route that takes a JSON body', async () => {
    const withBody = ops.filter((o) => keyed(o) && jsonBody(o));
    expect(withBody.length).toBeGreaterThan(12);
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) });
    const send = (o: Operation, rawBody: string) =>
      http(app.url, o.method, pathOf(o.template), { key: app.adminKey, rawBody });
    const label = (o: Operation) => `${o.method} ${o.template}`;
    expect(
      await expectStatus(
        400,
        withBody.map((o) => [label(o), send(o, '{"config_name":')]),
        (res) => res.body?.error === 'validation_error',
      ),
    ).toEqual([]);
    expect(
      await expectStatus(
        413,
        withBody.map((o) => [label(o), send(o, big)]),
        (res) => res.body?.error === 'payload_too_large',
      ),
    ).toEqual([]);
  });

  it('answers 400 naming the parameter to a bad value of a documented parameter', async () => {
    const withParams = ops.filter((o) => (o.op.parameters ?? []).some((p) => p.in === 'path' || p.in === 'query'));
    expect(withParams.length).toBeGreaterThan(20);
    const requests = withParams.map((o): [string, Promise<HttpResult>] => {
      const params = o.op.parameters ?? [];
      const inPath = params.find((p) => p.in === 'path');
      const inQuery = params.find((p) => p.in === 'query');
      // A NUL is refused for any parameter; a UUID parameter also refuses a non-UUID.
      const path = inPath
        ? pathOf(o.template.replace(`{${inPath.name}}`, '%00'))
        : `${pathOf(o.template)}?${inQuery!.name}=a%00b`;
      return [`${o.method} ${path}`, http(app.url, o.method, path, { key: app.adminKey, body: bodyFor(o.method) })];
    });
    expect(await expectStatus(400, requests, (res) => res.body?.error === 'validation_error')).toEqual([]);
    const uuidRoutes = ops.filter((o) => /\{(id|job_id)\}/.test(o.template));
    const notUuid = await expectStatus(
      400,
      uuidRoutes.map((o) => {
        const path = o.template.replace(/\{(id|job_id)\}/, 'not-a-uuid').replace('{name}', 'simulator');
        return [`${o.method} ${path}`, http(app.url, o.method, path, { key: app.adminKey, body: bodyFor(o.method) })];
      }),
      (res) => res.body?.error === 'validation_error' && Object.keys(res.body.details ?? {}).length === 1,
    );
    expect(notUuid).toEqual([]);
  });

  it('answers 400 naming the field to a documented parameter out of range or of no listed value, and to an unknown field', async () => {
    const doc = (await http(app.url, 'GET', '/api/openapi.json')).body;
    const requests: Array<[string, Promise<HttpResult>]> = [];
    const named = new Map<string, string>();
    for (const o of ops.filter(keyed)) {
      for (const p of o.op.parameters ?? []) {
        const schema = (p as { schema?: { maximum?: number; $ref?: string } }).schema ?? {};
        const enumRef = schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()!] : undefined;
        const bad = schema.maximum !== undefined ? String(schema.maximum + 1) : enumRef?.enum ? 'no_such_value' : null;
        if (p.in !== 'query' || bad === null) continue;
        const label = `${o.method} ${o.template}?${p.name}=${bad}`;
        named.set(label, p.name!);
        requests.push([
          label,
          http(app.url, o.method, `${pathOf(o.template)}?${p.name}=${bad}`, { key: app.adminKey }),
        ]);
      }
      if ((o.op.parameters ?? []).some((p) => p.in === 'query')) {
        const label = `${o.method} ${o.template}?surprise=1`;
        named.set(label, 'surprise');
        requests.push([label, http(app.url, o.method, `${pathOf(o.template)}?surprise=1`, { key: app.adminKey })]);
      }
      if (jsonBody(o)) {
        const label = `${o.method} ${o.template} {surprise}`;
        named.set(label, 'surprise');
        requests.push([
          label,
          http(app.url, o.method, pathOf(o.template), { key: app.adminKey, body: { surprise: 1 } }),
        ]);
      }
    }
    expect(requests.length).toBeGreaterThan(20);
    const answers = await Promise.all(requests.map(async ([label, p]) => [label, await p] as const));
    const wrong = answers
      .filter(([label, res]) => res.status !== 400 || !(named.get(label)! in (res.body?.details ?? {})))
      .map(([label, res]) => `${label}: ${res.status} ${res.text.slice(0, 160)}`);
    expect(wrong).toEqual([]);
  });

  it('answers 429 with Retry-After on every keyed route once an address failed too often', async () => {
    // A valid key is never refused, throttled address or not.
    expect((await http(app.url, 'GET', '/api/users/me', { key: app.adminKey })).status).toBe(200);
    // More failures than SIMPLETUNER_AUTH_FAILURE_LIMIT (1) block the address for a minute.
    for (let i = 0; i < 2; i++)
      expect((await http(app.url, 'GET', '/api/users/me', { key: generateApiKey() })).status).toBe(401);
    const wrong = await expectStatus(
      429,
      ops
        .filter(keyed)
        .map((o) => [
          `${o.method} ${o.template}`,
          http(app.url, o.method, pathOf(o.template), { key: generateApiKey() }),
        ]),
      (res) => res.body?.error === 'rate_limit_exceeded' && Number(res.headers.get('retry-after')) >= 1,
    );
    expect(wrong).toEqual([]);
    expect((await http(app.url, 'GET', '/api/users/me', { key: app.adminKey })).status).toBe(200);
  });
});

describe('the request timeout on every route but the event stream', () => {
  let app: TestApp;
  let fake: FakeReplicate;
  let locker: Client;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    app = await startTestApp({
      env: {
        SIMPLETUNER_REQUEST_TIMEOUT: '1',
        DB_POOL_SIZE: '2',
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        REPLICATE_API_TOKEN: fake.token,
        REPLICATE_API_BASE: fake.url,
      },
    });
    locker = new Client({ connectionString: app.database!.url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
    await app?.stop();
    await fake?.stop();
  });

  it('answers 503 request_timeout when the database does not answer in time', async () => {
    const all = await operations(app);
    const expected = all.filter((o) =>
      (o.op.responses['503'] as { description?: string } | undefined)?.description?.includes('request_timeout'),
    );
    expect(expected.length).toBeGreaterThan(38);
    expect(all.filter((o) => !expected.includes(o)).map((o) => o.template)).not.toContain('/api/cloud/jobs');
    // A key the app has verified once is cached; each request gets a key of its own, so that its check reads
    // api_keys. Every key check then waits on the lock, holding one of the app's two pooled connections; once both
    // are held, the health check and the webhook's secret lookup wait for a connection too.
    const me = await http(app.url, 'GET', '/api/users/me', { key: app.adminKey });
    const freshKeys: string[] = [];
    for (let i = 0; i < expected.length; i++) {
      const created = await http(app.url, 'POST', `/api/users/${me.body.id}/api-keys`, {
        key: app.adminKey,
        body: { name: `timeout-${i}` },
      });
      freshKeys.push(created.body.key);
    }
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE');
    const now = String(Math.floor(Date.now() / 1000));
    const webhookHeaders = { 'webhook-id': 'msg_timeout', 'webhook-timestamp': now, 'webhook-signature': 'v1,AAAA' };
    const send = (o: Operation, i: number): [string, Promise<HttpResult>] => [
      `${o.method} ${o.template}`,
      http(app.url, o.method, pathOf(o.template), {
        key: freshKeys[i],
        ...(o.template.startsWith('/api/webhooks') ? { headers: webhookHeaders, rawBody: '{}' } : {}),
      }),
    ];
    try {
      const first = expected.filter(keyed).map(send);
      for (let waiting = 0; waiting < 2;) {
        const { rows } = await locker.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        waiting = rows[0].n;
      }
      const wrong = await expectStatus(
        503,
        [...first, ...expected.filter((o) => !keyed(o)).map((o, i) => send(o, first.length + i))],
        (res) => res.body?.error === 'request_timeout',
      );
      expect(wrong).toEqual([]);
    } finally {
      await locker.query('ROLLBACK');
    }
    // Let the requests that waited finish (their answers are dropped) before the app stops under them.
    for (let i = 0; i < 3; i++) await http(app.url, 'GET', '/api/users/me', { key: app.adminKey });
  });
});
