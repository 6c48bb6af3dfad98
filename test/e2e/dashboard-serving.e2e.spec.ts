import * as fs from 'node:fs';
import * as path from 'node:path';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/** How the service serves the built dashboard: redirects, cache rules, security headers, gzip, missing build. */
describe('dashboard files (e2e)', () => {
  let app: TestApp;
  const buildDir = makeTempDir('st-dashboard-files-');
  const script = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;

  beforeAll(async () => {
    fs.mkdirSync(path.join(buildDir, 'assets'));
    fs.writeFileSync(
      path.join(buildDir, 'index.html'),
      '<!doctype html><script src="/dashboard/assets/main-abc123.js"></script>',
    );
    fs.writeFileSync(path.join(buildDir, 'assets', 'main-abc123.js'), script);
    app = await startTestApp({ env: { SIMPLETUNER_DASHBOARD_DIR: buildDir } });
  });
  afterAll(async () => {
    await app?.stop();
    fs.rmSync(buildDir, { recursive: true, force: true });
  });

  it('redirects / to /dashboard', async () => {
    const res = await fetch(`${app.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/dashboard');
  });

  it('serves index.html without a key, revalidated on every load, under a strict CSP', async () => {
    const res = await http(app.url, 'GET', '/dashboard');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.text).toContain('/dashboard/assets/main-abc123.js');

    const again = await fetch(`${app.url}/dashboard`, { headers: { 'If-None-Match': res.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
  });

  it('serves hashed assets for a year, gzipped when the browser accepts it', async () => {
    const plain = await fetch(`${app.url}/dashboard/assets/main-abc123.js`, {
      headers: { 'Accept-Encoding': 'identity' },
    });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(script);

    // Node's fetch asks for gzip and decodes it: the header shows what travelled.
    const gzipped = await fetch(`${app.url}/dashboard/assets/main-abc123.js`);
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(await gzipped.text()).toBe(script);
  });

  it('answers an unknown asset or a path trick with the API’s 404 body', async () => {
    for (const name of ['nope.js', '..%2Findex.html', '..%2F..%2Fpackage.json']) {
      const res = await http(app.url, 'GET', `/dashboard/assets/${name}`);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: 'not_found', correlation_id: expect.any(String) });
    }
  });

  it('says how to build it when there is no build (503), and the API keeps working', async () => {
    const unbuilt = await startTestApp({ env: { SIMPLETUNER_DASHBOARD_DIR: path.join(buildDir, 'missing') } });
    try {
      const res = await http(unbuilt.url, 'GET', '/dashboard');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        error: 'dashboard_not_built',
        message: expect.stringContaining('npm run build'),
      });
      const me = await http(unbuilt.url, 'GET', '/api/users/me', { key: unbuilt.adminKey });
      expect(me.status).toBe(200);
    } finally {
      await unbuilt.stop();
    }
  });
});
