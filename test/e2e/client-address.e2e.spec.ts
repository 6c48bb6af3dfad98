import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateApiKey } from '../../src/auth/api-key.util';
import { flushLogs } from '../../src/logging';
import { requestFrom } from '../support/http-from';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

const LIMIT = 3;
/** The proxy: the only trusted hop. Another loopback address plays a client that reaches the service directly. */
const PROXY = '127.0.0.1';
const DIRECT = '127.0.0.2';

/**
 * The client address (`client_ip`) is the TCP peer unless that peer is a trusted proxy
 * (SIMPLETUNER_TRUSTED_PROXIES): then the X-Forwarded-For hop it vouches for. Seen in the request log line, the
 * audit and the failed-authentication throttle.
 */
describe('client address behind trusted proxies', () => {
  let app: TestApp;
  let logFile: string;

  beforeAll(async () => {
    logFile = path.join(makeTempDir(), 'cloud.log');
    app = await startTestApp({
      env: {
        SIMPLETUNER_TRUSTED_PROXIES: `${PROXY}, 10.0.0.0/8`,
        SIMPLETUNER_AUTH_FAILURE_LIMIT: String(LIMIT),
        SIMPLETUNER_LOG_FILE: logFile,
        SIMPLETUNER_LOG_LEVEL: 'INFO',
      },
    });
  });
  afterAll(() => app?.stop());

  /** The request line of the request that answered with `correlationId`. */
  const requestLine = async (correlationId: string) => {
    await flushLogs();
    const lines = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
    return lines.find((l) => l.logger === 'simpletuner.cloud.http' && l.correlation_id === correlationId);
  };

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const res = await requestFrom(DIRECT, app.url, 'GET', '/api/users/me', {
      key: app.adminKey,
      headers: { 'X-Forwarded-For': '203.0.113.66', 'X-Correlation-ID': 'forged-xff' },
    });
    expect(res.status).toBe(200);
    expect((await requestLine('forged-xff'))?.extra).toMatchObject({
      client_ip: DIRECT,
    });
  });

  it('believes the hop a trusted proxy vouches for, and no further', async () => {
    // The client claims to be 198.51.100.1; the proxy appends the address it saw. Only the proxy is trusted, so
    // the client is what the proxy saw, whatever the client wrote before it.
    const res = await requestFrom(PROXY, app.url, 'GET', '/api/users/me', {
      key: app.adminKey,
      headers: { 'X-Forwarded-For': '198.51.100.1, 203.0.113.7', 'X-Correlation-ID': 'via-proxy' },
    });
    expect(res.status).toBe(200);
    const line = await requestLine('via-proxy');
    expect(line?.extra).toMatchObject({ client_ip: '203.0.113.7' });
    // Through two trusted hops (the proxy, then 10.0.0.5 in a trusted range) the client is the one before them.
    const chained = await requestFrom(PROXY, app.url, 'GET', '/api/users/me', {
      key: app.adminKey,
      headers: { 'X-Forwarded-For': '203.0.113.8, 10.0.0.5', 'X-Correlation-ID': 'via-chain' },
    });
    expect(chained.status).toBe(200);
    const chainLine = await requestLine('via-chain');
    expect(chainLine?.extra).toMatchObject({ client_ip: '203.0.113.8' });
  });

  it('records the client address in the audit', async () => {
    const res = await requestFrom(PROXY, app.url, 'POST', '/api/orgs', {
      key: app.adminKey,
      headers: { 'X-Forwarded-For': '203.0.113.21' },
      body: { name: 'client-address-org' },
    });
    expect(res.status).toBe(201);
    const audit = await requestFrom(PROXY, app.url, 'GET', `/api/audit?target_id=${res.body.id}`, {
      key: app.adminKey,
    });
    expect(audit.status).toBe(200);
    expect(audit.body.entries[0]).toMatchObject({ action: 'org.create', client_ip: '203.0.113.21' });
  });

  it('throttles failed authentication per client behind one proxy, and a forged header does not escape it', async () => {
    const badKey = () => generateApiKey();
    const asClient = (client: string) =>
      requestFrom(PROXY, app.url, 'GET', '/api/users/me', {
        key: badKey(),
        headers: { 'X-Forwarded-For': client },
      });
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 3; i++) statuses.push((await asClient('203.0.113.30')).status);
    expect(statuses).toContain(429);
    // Another client behind the same proxy is not blocked: its bad key is an ordinary 401.
    expect((await asClient('203.0.113.31')).status).toBe(401);

    // A client reaching the service directly cannot shed its block by writing X-Forwarded-For.
    const direct = (forged: string) =>
      requestFrom(DIRECT, app.url, 'GET', '/api/users/me', { key: badKey(), headers: { 'X-Forwarded-For': forged } });
    const directStatuses: number[] = [];
    for (let i = 0; i < LIMIT + 3; i++) directStatuses.push((await direct(`198.51.100.${i + 10}`)).status);
    expect(directStatuses.slice(-2)).toEqual([429, 429]);
  });
});
