import * as fs from 'node:fs';
import * as path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { RULE_CONDITIONS } from '../../src/approvals/rules-engine';
import { APPROVAL_STATUSES } from '../../src/approvals/approval-request.entity';
import { USER_LEVELS } from '../../src/auth/user.entity';
import { EVENT_TYPES } from '../../src/events/events.types';
import { JOB_STATUSES } from '../../src/common/job-status';
import { documentFile, serializeDocument } from '../../src/openapi.cli';
import { QUEUE_ENTRY_STATUSES, WAIT_REASONS } from '../../src/queue/queue-entry.entity';
import { PRIORITY } from '../../src/queue/queue-priority';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

const ROOT = path.resolve(__dirname, '..', '..');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** `GET /api/users/:id` and the like, from the README's routes table (`POST …/:id/approve` continues the row). */
function readmeRoutes(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Routes')[1].split('\n## ')[0];
  const routes: string[] = [];
  for (const row of section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Area'))) {
    let previous = '';
    for (const [, methods, raw] of row.matchAll(/`([A-Z/]+) ((?:\/|…)[^`\s]*)`/g)) {
      let route = raw;
      if (raw.startsWith('…')) {
        const first = raw.slice(1).split('/')[1];
        route = previous.slice(0, previous.indexOf(`/${first}`)) + raw.slice(1);
      }
      previous = route;
      for (const m of methods.split('/')) routes.push(`${m} ${route.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes;
}

describe('the OpenAPI document', () => {
  let app: TestApp;
  let doc: any;
  const ops = () =>
    Object.entries<Record<string, any>>(doc.paths).flatMap(([p, item]) =>
      METHODS.filter((m) => item[m]).map((m) => ({ key: `${m.toUpperCase()} ${p}`, op: item[m] })),
    );

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
    const res = await http(app.url, 'GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-correlation-id')).toBeTruthy();
    doc = res.body;
  });
  afterAll(() => app?.stop());

  it('is served without a key and is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\.0\./);
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
  });

  it('is the committed openapi.json (after an API change, run `npm run openapi` and commit the result)', () => {
    const committed = fs.readFileSync(documentFile(), 'utf8');
    const generated = serializeDocument(doc);
    if (generated !== committed) {
      const a = committed.split('\n');
      const b = generated.split('\n');
      const at = a.findIndex((line, i) => line !== b[i]);
      throw new Error(
        `openapi.json is out of date (run npm run openapi); first difference at line ${at + 1}:\n` +
          `  committed: ${a[at]}\n  generated: ${b[at]}`,
      );
    }
  });

  it('lists every route of the README', () => {
    const routes = readmeRoutes();
    expect(routes.length).toBeGreaterThan(45);
    const documented = new Set(ops().map((o) => o.key));
    expect(routes.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('gives every operation a summary, its security, its level and the errors of its kind', () => {
    const problems: string[] = [];
    for (const { key, op } of ops()) {
      const statuses = Object.keys(op.responses);
      const need = (cond: boolean, what: string) => cond || problems.push(`${key}: ${what}`);
      need(Boolean(op.summary), 'a summary');
      const isPublic = (op.security ?? []).length === 0;
      if (isPublic) {
        need(op.description?.startsWith('No API key needed.'), 'says it needs no key');
      } else {
        const schemes = op.security.flatMap((s: object) => Object.keys(s));
        need(schemes.includes('api-key') && schemes.includes('bearer'), 'the X-API-Key and bearer schemes');
        need(USER_LEVELS.includes(op['x-min-level']), 'x-min-level');
        need(op.description?.includes(`\`${op['x-min-level']}\``), 'its level in the description');
        need(statuses.includes('401') && statuses.includes('429'), '401 and 429');
        need(Boolean(op.responses['429']?.headers?.['Retry-After']), 'Retry-After on 429');
        if (op['x-min-level'] !== 'viewer') need(statuses.includes('403'), '403 (below its level)');
      }
      if (op.requestBody) need(statuses.includes('400') && statuses.includes('413'), '400 and 413 (a body)');
      if ((op.parameters ?? []).some((p: any) => p.in === 'path' || p.in === 'query'))
        need(statuses.includes('400'), '400 (parameters)');
      for (const [status, r] of Object.entries<any>(op.responses)) {
        need(Boolean(r.headers?.['X-Correlation-ID']), `X-Correlation-ID on ${status}`);
        if (Number(status) >= 400) {
          const schema = r.content?.['application/json']?.schema;
          const refs = (schema?.oneOf ?? [schema]).map((s: any) => s?.$ref?.split('/').pop());
          for (const name of refs) {
            const body = doc.components.schemas[name];
            need(
              body?.required?.join() === 'error,message,correlation_id' && Boolean(body.properties.details),
              `the error body on ${status}`,
            );
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('describes parameters with their limits and the enums of the API', () => {
    const param = (key: string, name: string) =>
      ops()
        .find((o) => o.key === key)!
        .op.parameters.find((p: any) => p.name === name);
    for (const { key, op } of ops()) {
      for (const p of op.parameters ?? []) {
        if (p.in === 'path' && /^(id|job_id)$/.test(p.name)) expect([key, p.schema.format]).toEqual([key, 'uuid']);
      }
    }
    for (const list of ['GET /api/cloud/jobs', 'GET /api/queue', 'GET /api/approvals/requests']) {
      expect(param(list, 'limit').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 50 });
      expect(param(list, 'offset').schema).toMatchObject({ type: 'integer', minimum: 0, maximum: 1e9 });
    }
    const enums = doc.components.schemas;
    expect(enums.JobStatus.enum).toEqual([...JOB_STATUSES]);
    expect(enums.UserLevel.enum).toEqual([...USER_LEVELS]);
    expect(enums.QueueEntryStatus.enum).toEqual([...QUEUE_ENTRY_STATUSES]);
    expect(enums.BlockedReason.enum).toEqual([...WAIT_REASONS]);
    expect(enums.ApprovalStatus.enum).toEqual([...APPROVAL_STATUSES]);
    expect(enums.RuleCondition.enum).toEqual([...RULE_CONDITIONS]);
    expect(enums.SetPriorityDto.properties.priority).toMatchObject({ minimum: 0, maximum: 50, nullable: true });
    const scale = Object.entries(PRIORITY)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ');
    expect(enums.SubmitJobDto.properties.priority.description).toContain(scale);
    expect(enums.SetPriorityDto.properties.priority.description).toContain(scale);
  });

  it('documents the idempotent submit and the event stream with their headers', () => {
    const submit = doc.paths['/api/cloud/jobs/submit'].post;
    expect(submit.parameters.map((p: any) => `${p.in}:${p.name ?? p.$ref}`)).toContain('header:Idempotency-Key');
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['200', '201', '409', '422']));
    expect(submit.responses['200'].headers['Idempotent-Replayed']).toBeTruthy();
    expect(submit.responses['422'].content['application/json'].schema.$ref).toMatch(/IdempotencyKeyReusedError$/);

    const events = doc.paths['/api/events'].get;
    expect(Object.keys(events.responses['200'].content)).toEqual(['text/event-stream']);
    expect(Object.keys(events['x-sse-events'])).toEqual([...EVENT_TYPES, 'reset', 'error']);
    for (const ref of Object.values<any>(events['x-sse-events'])) {
      const schema = doc.components.schemas[ref.$ref.split('/').pop()];
      expect(schema.required).toEqual(expect.arrayContaining(['type']));
    }
    expect(events.parameters.find((p: any) => p.name === 'Last-Event-ID')).toMatchObject({ in: 'header' });
    expect(events.security).toEqual(expect.arrayContaining([{ 'api-key-query': [] }]));
  });

  it('gives examples for the main bodies and no internal references', () => {
    for (const name of ['SubmitJobDto', 'SubmittedJobView', 'JobView', 'QueuePositionView', 'ApprovalRequestView']) {
      const examples = Object.values<any>(doc.components.schemas[name].properties).filter((p) => 'example' in p);
      expect([name, examples.length]).toEqual([name, expect.any(Number)]);
      expect(examples.length).toBeGreaterThan(2);
    }
    expect(JSON.stringify(doc)).not.toMatch(/SPEC|§|shared\//);
  });

  it('serves the browsable reference without a key, with its own content policy', async () => {
    const page = await http(app.url, 'GET', '/api/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:/);
    const scripts = [...page.text.matchAll(/<(?:script|link)[^>]+(?:src|href)=["']([^"']+)["']/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(3);
    for (const src of scripts) {
      expect(src).not.toMatch(/^(https?:)?\/\//);
      const asset = await http(app.url, 'GET', new URL(src, `${app.url}/api/docs`).pathname);
      expect([src, asset.status]).toEqual([src, 200]);
    }
  });

  it('serves only the files the reference page loads, not the rest of the swagger-ui-dist folder', async () => {
    for (const file of [
      'package.json',
      'swagger-ui-bundle.js.map',
      'swagger-ui.css.map',
      'swagger-ui-es-bundle.js',
      'README.md',
      'LICENSE',
      'absolute-path.js',
      'oauth2-redirect.html',
      'docs/swagger-ui.css',
      'docs/package.json',
    ]) {
      const res = await http(app.url, 'GET', `/api/docs/${file}`);
      expect([file, res.status, res.body?.error]).toEqual([file, 404, 'not_found']);
      expect(res.text).not.toContain('swagger-ui-dist');
    }
    const css = await http(app.url, 'GET', '/api/docs/swagger-ui.css');
    expect(css.status).toBe(200);
  });
});
