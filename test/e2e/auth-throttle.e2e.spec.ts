import * as http from 'node:http';
import { AuthService } from '../../src/auth';
import { generateApiKey } from '../../src/auth/api-key.util';
import { makeOrg, makeUser } from '../support/approval-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

interface Answer {
  status: number;
  body: any;
  retryAfter: string | undefined;
}

/** GET `path` with `key` from the loopback address `from` (127.0.0.0/8 is all this machine's). */
function getFrom(from: string, baseUrl: string, path: string, key: string): Promise<Answer> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: url.hostname, port: url.port, path: url.pathname, localAddress: from, headers: { 'X-API-Key': key } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += String(chunk)));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text ? JSON.parse(text) : undefined,
            retryAfter: res.headers['retry-after'],
          }),
        );
      },
    );
    req.on('error', reject);
  });
}

/** A well-formed key that exists nowhere, starting with `prefix` when given. */
const badKey = (prefix?: string) => (prefix ? prefix + generateApiKey().slice(prefix.length) : generateApiKey());

const LIMIT = 5;

describe('failed-authentication throttling', () => {
  let app: TestApp;
  let lookups: jest.SpyInstance;

  beforeAll(async () => {
    app = await startTestApp({
      env: { SIMPLETUNER_AUTH_FAILURE_LIMIT: String(LIMIT), SIMPLETUNER_QUEUE_INTERVAL: '3600' },
    });
    lookups = jest.spyOn(app.app.get(AuthService), 'authenticate');
  });
  afterAll(async () => {
    lookups?.mockRestore();
    await app?.stop();
  });

  it('answers a burst of bad keys from one address with 429 and Retry-After; a valid key never used before still works from it', async () => {
    // Another organisation's lead, whose key has never been used: the case a shared address used to lock out.
    const orgB = await makeOrg(app, 'throttle-b');
    const quietLead = await makeUser(app, 'throttle-lead', 'lead', orgB);
    const from = '127.0.0.1';
    const statuses: number[] = [];
    let throttled: Answer | undefined;
    for (let i = 0; i < 30; i++) {
      const res = await getFrom(from, app.url, '/api/cloud/jobs', badKey());
      statuses.push(res.status);
      if (res.status === 429) throttled ??= res;
    }
    const firstThrottled = statuses.indexOf(429);
    expect(firstThrottled).toBeGreaterThanOrEqual(LIMIT);
    expect(statuses.slice(0, firstThrottled)).toEqual(Array(firstThrottled).fill(401));
    expect(statuses.slice(firstThrottled)).toEqual(Array(30 - firstThrottled).fill(429));
    expect(throttled!.body).toMatchObject({ error: 'rate_limit_exceeded', correlation_id: expect.any(String) });
    expect(Number(throttled!.retryAfter)).toBeGreaterThan(0);
    expect(Number(throttled!.retryAfter)).toBeLessThanOrEqual(60);

    // The valid key that never failed is checked and served, from the very address that is blocked.
    expect((await getFrom(from, app.url, '/api/users/me', quietLead.key)).status).toBe(200);
    expect((await getFrom(from, app.url, '/api/users/me', app.adminKey)).status).toBe(200);
    // Another client address is not blocked: its first bad key is an ordinary 401.
    expect((await getFrom('127.0.0.2', app.url, '/api/users/me', badKey())).status).toBe(401);
  });

  it('refuses a key that already failed again from memory, without a database lookup, while its address is blocked', async () => {
    const from = '127.0.0.3';
    const repeated = badKey();
    for (let i = 0; i <= LIMIT; i++) await getFrom(from, app.url, '/api/users/me', repeated);
    const before = lookups.mock.calls.length;
    for (let i = 0; i < 10; i++) {
      const res = await getFrom(from, app.url, '/api/users/me', repeated);
      expect(res.status).toBe(429);
    }
    expect(lookups.mock.calls.length).toBe(before);
  });

  it('blocks a key prefix hammered from many addresses, yet serves the valid key that has that prefix', async () => {
    const orgC = await makeOrg(app, 'throttle-c');
    const target = await makeUser(app, 'throttle-target', 'researcher', orgC);
    const prefix = target.key.slice(0, 11);
    // One failure from each of many addresses: no address is blocked, the prefix is.
    const statuses: number[] = [];
    for (let i = 0; i < 2 * LIMIT; i++) {
      statuses.push((await getFrom(`127.0.1.${i + 1}`, app.url, '/api/users/me', badKey(prefix))).status);
    }
    expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(401));
    expect(statuses.slice(-2)).toEqual([429, 429]);
    // A fresh address guessing on that prefix is throttled; the same fresh address with another prefix is not.
    expect((await getFrom('127.0.2.1', app.url, '/api/users/me', badKey(prefix))).status).toBe(429);
    expect((await getFrom('127.0.2.2', app.url, '/api/users/me', badKey())).status).toBe(401);
    // The key whose prefix was hammered never failed: it is served from anywhere.
    for (const from of ['127.0.1.1', '127.0.2.1', '127.0.0.1']) {
      expect((await getFrom(from, app.url, '/api/users/me', target.key)).status).toBe(200);
    }
  });

  it('leaves requests that need no key alone', async () => {
    expect((await getFrom('127.0.0.1', app.url, '/health/live', badKey())).status).toBe(200);
  });
});
