import { AuthService } from '../../src/auth';
import { generateApiKey } from '../../src/auth/api-key.util';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

describe('failed-authentication throttling', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_AUTH_FAILURE_LIMIT: '5', SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
  });
  afterAll(() => app?.stop());

  it('answers a burst of bad keys with 429 and Retry-After, without a key lookup, while a good key is served', async () => {
    expect((await http(app.url, 'GET', '/api/users/me', { key: app.adminKey })).status).toBe(200);
    const lookups = jest.spyOn(app.app.get(AuthService), 'authenticate');

    const statuses: number[] = [];
    let throttled: Awaited<ReturnType<typeof http>> | undefined;
    for (let i = 0; i < 30; i++) {
      const res = await http(app.url, 'GET', '/api/cloud/jobs', { key: generateApiKey() });
      statuses.push(res.status);
      if (res.status === 429) throttled ??= res;
    }
    // The limit's failures are answered 401 (each one a real lookup), everything after is 429.
    expect(statuses.slice(0, 6)).toEqual(Array(6).fill(401));
    expect(statuses.slice(6)).toEqual(Array(24).fill(429));
    expect(lookups).toHaveBeenCalledTimes(6);
    expect(throttled!.body).toMatchObject({ error: 'rate_limit_exceeded', correlation_id: expect.any(String) });
    const retryAfter = Number(throttled!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // A key that authenticated before keeps working from the same address, and is still checked.
    const me = await http(app.url, 'GET', '/api/users/me', { key: app.adminKey });
    expect(me.status).toBe(200);
    expect(lookups).toHaveBeenCalledTimes(7);
    // Requests that need no key are not affected.
    expect((await http(app.url, 'GET', '/health/live')).status).toBe(200);
    lookups.mockRestore();
  });
});
