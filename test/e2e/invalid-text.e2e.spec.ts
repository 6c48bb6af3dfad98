import { randomBytes, randomUUID } from 'node:crypto';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Text PostgreSQL cannot store — a lone UTF-16 surrogate such as `"\ud800"` — in any string field of any route is
 * a 400 naming the field, never a 500. The cases are generated from the service's own OpenAPI document: every
 * string in every request body (free-form objects included), every query and path parameter. A new route is
 * covered as soon as it is documented.
 */
const LONE = '\ud800';
/** A surrogate's UTF-8-style bytes, the only way one can be written in a URL; not UTF-8. */
const LONE_IN_URL = '%ED%A0%80';

type Schema = Record<string, any>;

/** Every path in a body where a string can go (`name`, `config.free`, `exempt_levels[0]`). */
function stringFields(doc: Schema, schema: Schema | undefined, path = '', seen = new Set<string>()): string[] {
  if (!schema) return [];
  if (schema.$ref) {
    if (seen.has(schema.$ref)) return [];
    const name = String(schema.$ref).split('/').pop()!;
    return stringFields(doc, doc.components.schemas[name], path, new Set([...seen, schema.$ref]));
  }
  const alternatives = [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])];
  if (alternatives.length) return [...new Set(alternatives.flatMap((s) => stringFields(doc, s, path, seen)))];
  if (schema.type === 'string' || (Array.isArray(schema.enum) && typeof schema.enum[0] === 'string')) return [path];
  if (schema.type === 'array') return stringFields(doc, schema.items, `${path}[0]`, seen);
  if (schema.type === 'object' || schema.properties) {
    const out = Object.entries(schema.properties ?? {}).flatMap(([key, child]) =>
      stringFields(doc, child as Schema, path ? `${path}.${key}` : key, seen),
    );
    // A free-form object (a training config, hardware prices): any key may hold a string.
    if (schema.additionalProperties !== false && (!schema.properties || schema.additionalProperties)) {
      out.push(path ? `${path}.free` : 'free');
    }
    return out;
  }
  return [];
}

/** `{a: {b: [value]}}` for `a.b[0]`. */
function bodyWith(path: string, value: unknown): unknown {
  const steps = path.split('.').flatMap((part) => {
    const m = /^(.*?)((\[0\])*)$/.exec(part)!;
    return [m[1], ...Array(m[2].length / 3).fill(0)];
  });
  return steps.reduceRight<unknown>((inner, step) => (step === 0 ? [inner] : { [step]: inner }), value);
}

interface Operation {
  method: string;
  path: string;
  op: Schema;
}

describe('a lone UTF-16 surrogate in any field of any documented route is a 400 naming it', () => {
  let fake: FakeReplicate;
  let app: TestApp;
  let doc: Schema;
  let operations: Operation[];

  beforeAll(async () => {
    fake = await startFakeReplicate();
    app = await startTestApp({
      env: { REPLICATE_API_BASE: fake.url, REPLICATE_API_TOKEN: fake.token, SIMPLETUNER_QUEUE_INTERVAL: '3600' },
    });
    doc = (await http(app.url, 'GET', '/api/openapi.json')).body;
    operations = Object.entries(doc.paths as Record<string, Schema>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op: op as Schema })),
    );
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  /** The path with every parameter filled in (an id that exists nowhere: the check runs before any route). */
  const concrete = (path: string, replace?: string) =>
    path.replace(/\{([^}]+)\}/g, (_m, name: string) => (name === replace ? LONE_IN_URL : randomUUID()));

  /** Headers a route needs to read its body at all (the webhook checks its signature headers' shape first). */
  const headersFor = (path: string): Record<string, string> =>
    path.startsWith('/api/webhooks/')
      ? {
          'webhook-id': `msg_${randomUUID()}`,
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': `v1,${randomBytes(32).toString('base64')}`,
        }
      : {};

  function expectRefused(label: string, res: { status: number; body: any }, field: string): void {
    if (res.status !== 400 || res.body?.error !== 'validation_error' || !(field in (res.body.details ?? {}))) {
      throw new Error(`${label}: expected 400 naming ${field}, got ${res.status} ${JSON.stringify(res.body)}`);
    }
  }

  it('refuses it in every string of every JSON body, the free-form config included', async () => {
    let checked = 0;
    for (const { method, path, op } of operations) {
      const schema = op.requestBody?.content?.['application/json']?.schema;
      for (const field of stringFields(doc, schema)) {
        const res = await http(app.url, method, concrete(path), {
          key: app.adminKey,
          body: bodyWith(field, LONE),
          headers: headersFor(path),
        });
        expectRefused(`${method} ${path} body ${field}`, res, field);
        // A key of a free-form object is checked too.
        if (field.endsWith('.free')) {
          const keyed = field.replace(/free$/, `k${LONE}`);
          const byKey = await http(app.url, method, concrete(path), {
            key: app.adminKey,
            body: bodyWith(field.replace(/\.free$/, ''), { [`k${LONE}`]: 1 }),
            headers: headersFor(path),
          });
          expectRefused(`${method} ${path} key ${keyed}`, byKey, keyed.replace(LONE, '\\ud800'));
        }
        checked++;
      }
    }
    // Users, orgs, keys, jobs (config and names), providers, polling, queue, approvals, rules, the webhook…
    expect(checked).toBeGreaterThan(40);
  });

  it('refuses it in every query and path parameter', async () => {
    let checked = 0;
    for (const { method, path, op } of operations) {
      for (const param of (op.parameters ?? []) as Schema[]) {
        if (param.in !== 'query' && param.in !== 'path') continue;
        const url =
          param.in === 'path'
            ? concrete(path, param.name)
            : `${concrete(path)}?${encodeURIComponent(param.name)}=a${LONE_IN_URL}`;
        const res = await http(app.url, method, url, { key: app.adminKey });
        expectRefused(`${method} ${path} ${param.in} ${param.name}`, res, param.in === 'path' ? 'path' : param.name);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(25);
  });

  it('keeps well-formed text: a surrogate pair (an emoji) goes through and comes back unchanged', async () => {
    const res = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'emoji \ud83d\ude80', config: { note: '\ud83d\ude80' } },
    });
    expect(res.status).toBe(201);
    const job = await http(app.url, 'GET', `/api/cloud/jobs/${res.body.job_id}`, { key: app.adminKey });
    expect(job.body).toMatchObject({ config_name: 'emoji 🚀', config: { note: '🚀' } });
  });
});
