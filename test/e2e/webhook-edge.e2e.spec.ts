import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { startTestApp, TestApp } from '../support/test-app';

const HOOK = '/api/webhooks/replicate';

/** Sends only the request head (declaring a body it never sends) and resolves with the status line and body. */
function headOnly(baseUrl: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      const lines = Object.entries({ Host: url.host, ...headers }).map(([k, v]) => `${k}: ${v}`);
      socket.write(`POST ${HOOK} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
    });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer without the body; got: ${text.slice(0, 200)}`));
    }, 3000);
    socket.on('data', (chunk) => {
      text += String(chunk);
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (end >= 0 && length !== undefined && text.length >= end + 4 + Number(length)) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ status: Number(text.split(' ')[1]), body: text.slice(end + 4) });
      }
    });
    socket.on('error', reject);
  });
}

function forgeries(): Array<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const sig = () => `v1,${randomBytes(32).toString('base64')}`;
  const out: Array<Record<string, string>> = [];
  for (let i = 0; i < 100; i++) {
    const id = `msg_forged_${i}`;
    const cases: Array<Record<string, string>> = [
      {}, // no headers at all
      { 'webhook-id': id, 'webhook-timestamp': String(now) }, // no signature
      { 'webhook-id': id, 'webhook-timestamp': 'yesterday', 'webhook-signature': sig() },
      { 'webhook-id': id, 'webhook-timestamp': String(now - 3600), 'webhook-signature': sig() },
      {
        'webhook-id': id,
        'webhook-timestamp': String(now),
        'webhook-signature': `v2,${randomBytes(8).toString('hex')}`,
      },
      { 'webhook-id': id, 'webhook-timestamp': String(now), 'webhook-signature': sig() }, // well-formed, forged
    ];
    out.push(cases[i % cases.length]);
  }
  return out;
}

async function post(baseUrl: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const body = JSON.stringify({ id: 'p_forged', status: 'succeeded', input: { job_id: 'x' } });
  const res = await fetch(baseUrl + HOOK, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: await res.json() };
}

describe('webhook edge: junk costs nothing', () => {
  let fake: FakeReplicate;
  let app: TestApp;
  let db: DataSource;
  const secretFetches = () => fake.requests.filter((r) => r.path.endsWith('/webhooks/default/secret')).length;
  const rows = async (table: string) => Number((await db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

  beforeAll(async () => {
    fake = await startFakeReplicate();
    app = await startTestApp({
      env: { REPLICATE_API_BASE: fake.url, REPLICATE_API_TOKEN: fake.token, SIMPLETUNER_QUEUE_INTERVAL: '3600' },
    });
    db = app.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  it('answers 100 forged or malformed webhooks with 401 invalid_signature, one secret fetch and no writes', async () => {
    const before = { deliveries: await rows('webhook_deliveries'), events: await rows('events') };
    fake.requests.length = 0;
    const results = [];
    for (const headers of forgeries()) results.push(await post(app.url, headers));
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(401));
    for (const r of results)
      expect(r.body).toMatchObject({ error: 'invalid_signature', correlation_id: expect.any(String) });
    expect(secretFetches()).toBeLessThanOrEqual(1);
    expect(fake.requests.filter((r) => !r.path.endsWith('/webhooks/default/secret'))).toEqual([]);
    expect(await rows('webhook_deliveries')).toBe(before.deliveries);
    expect(await rows('events')).toBe(before.events);
  });

  it('refuses missing headers before reading the body, and a body declared too big with 413', async () => {
    const missing = await headOnly(app.url, { 'Content-Type': 'application/json', 'Content-Length': '5000000' });
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body).error).toBe('invalid_signature');
    const now = String(Math.floor(Date.now() / 1000));
    const tooBig = await headOnly(app.url, {
      'Content-Type': 'application/json',
      'Content-Length': String(11 * 1024 * 1024),
      'webhook-id': 'msg_big',
      'webhook-timestamp': now,
      'webhook-signature': `v1,${randomBytes(32).toString('base64')}`,
    });
    expect(tooBig.status).toBe(413);
  });

  it('remembers a failed secret fetch instead of asking Replicate again for every webhook', async () => {
    const other = await startTestApp({
      env: { REPLICATE_API_BASE: fake.url, REPLICATE_API_TOKEN: fake.token, SIMPLETUNER_QUEUE_INTERVAL: '3600' },
    });
    try {
      fake.requests.length = 0;
      fake.failNext(1000, 500, { path: /webhooks\/default\/secret/ });
      const now = String(Math.floor(Date.now() / 1000));
      const results = [];
      for (let i = 0; i < 20; i++) {
        results.push(
          await post(other.url, {
            'webhook-id': `msg_${i}`,
            'webhook-timestamp': now,
            'webhook-signature': `v1,${randomBytes(32).toString('base64')}`,
          }),
        );
      }
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(503));
      // One fetch (the HTTP client may retry it a few times), not one per webhook.
      expect(secretFetches()).toBeLessThanOrEqual(3);
    } finally {
      fake.reset();
      await other.stop();
    }
  });
});

describe('webhook edge without Replicate', () => {
  let fake: FakeReplicate;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    // The base URL points at the fake so that any call would be counted; there is no token.
    app = await startTestApp({ env: { REPLICATE_API_BASE: fake.url } });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  it('answers 404 at once and never calls out', async () => {
    const results = [];
    for (const headers of forgeries()) results.push(await post(app.url, headers));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([404]));
    expect(results[0].body).toMatchObject({ error: 'not_found' });
    expect(fake.requests).toEqual([]);
  });
});
