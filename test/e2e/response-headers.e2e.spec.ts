import { Controller, Get, Module } from '@nestjs/common';
import { Public } from '../../src/auth';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** A route slower than the configured request timeout (test-only module). */
@Controller('test-slow')
class SlowController {
  @Get()
  @Public()
  async slow() {
    await new Promise((r) => setTimeout(r, 1500));
    return { late: true };
  }
}
@Module({ controllers: [SlowController] })
class SlowModule {}

describe('API response headers', () => {
  let app: TestApp;
  let cors: TestApp;
  let anyOrigin: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ imports: [SlowModule], env: { SIMPLETUNER_REQUEST_TIMEOUT: '1' } });
    cors = await startTestApp({ env: { SIMPLETUNER_CORS_ORIGINS: 'https://ops.example.com' } });
    anyOrigin = await startTestApp({ env: { SIMPLETUNER_CORS_ORIGINS: '*' } });
  });
  afterAll(async () => {
    await app?.stop();
    await cors?.stop();
    await anyOrigin?.stop();
  });

  it('sends nosniff, no-store, a deny-all content policy and no X-Powered-By, also on a new key', async () => {
    // On the app without the 1 s request timeout: a loaded machine must not turn this into a timeout test.
    const me = await http(cors.url, 'GET', '/api/users/me', { key: cors.adminKey });
    const key = await http(cors.url, 'POST', `/api/users/${me.body.id}/api-keys`, { key: cors.adminKey, body: {} });
    for (const res of [me, key, await http(cors.url, 'GET', '/api/cloud/jobs')]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    expect(key.body.key).toMatch(/^st_/);
  });

  it('has no CORS unless origins are configured, and then only for them', async () => {
    const origin = { Origin: 'https://ops.example.com' };
    const off = await http(app.url, 'GET', '/health/live', { headers: origin });
    expect(off.headers.get('access-control-allow-origin')).toBeNull();
    const on = await http(cors.url, 'GET', '/health/live', { headers: origin });
    expect(on.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
    expect(on.headers.get('access-control-expose-headers')).toContain('X-Correlation-ID');
    const preflight = await fetch(`${cors.url}/api/cloud/jobs`, {
      method: 'OPTIONS',
      headers: { ...origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-api-key' },
    });
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-API-Key');
    const stranger = await http(cors.url, 'GET', '/health/live', { headers: { Origin: 'https://evil.example' } });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('reads * as any origin, without credentials: a page anywhere may call the API with its key header', async () => {
    for (const origin of ['https://ops.example.com', 'http://localhost:5173']) {
      const res = await http(anyOrigin.url, 'GET', '/api/users/me', {
        key: anyOrigin.adminKey,
        headers: { Origin: origin },
      });
      expect([res.status, res.headers.get('access-control-allow-origin')]).toEqual([200, '*']);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      const preflight = await fetch(`${anyOrigin.url}/api/cloud/jobs`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'x-api-key',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('X-API-Key');
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('answers 503 request_timeout when a route takes longer than the request timeout', async () => {
    const res = await http(app.url, 'GET', '/test-slow');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'request_timeout', correlation_id: expect.any(String) });
    // The service is fine afterwards (the late answer is dropped).
    await new Promise((r) => setTimeout(r, 700));
    expect((await http(app.url, 'GET', '/health/live')).status).toBe(200);
  });
});
