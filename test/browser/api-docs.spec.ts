import type { Browser } from 'playwright-core';
import { startTestApp, TestApp } from '../support/test-app';
import { launchBrowser, screenshot } from './support/browser';

/**
 * The browsable API reference in Debian's Chromium: Swagger UI renders every operation from files the service
 * serves itself; nothing is fetched from another host and its content policy refuses nothing it needs.
 */
describe('API reference page (browser)', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } }),
      launchBrowser(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('renders every operation with no request leaving the machine', async () => {
    const origin = new URL(app.url).origin;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
    const requests: string[] = [];
    const foreign: string[] = [];
    const problems: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin || url.startsWith('data:')) return route.continue();
      foreign.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    // Content-policy refusals are reported on the console.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    try {
      await page.goto(`${origin}/api/docs`);
      await page
        .getByText('SimpleTuner Cloud API')
        .first()
        .waitFor({ timeout: 20_000 })
        .catch((err: Error) => {
          throw new Error(`${err.message}\n${[...problems, ...foreign].join('\n')}`);
        });
      const operations = page.locator('.opblock');
      await operations.first().waitFor();
      expect(await operations.count()).toBeGreaterThanOrEqual(47);
      // Open one operation: its parameters, body schema and responses render from the document.
      await page.locator('.opblock-summary', { hasText: '/api/cloud/jobs/submit' }).click();
      await page.getByText('Idempotency-Key').first().waitFor();
      await page.getByText('idempotency_key_reused').first().waitFor();
      await screenshot(page, 'api-docs');
      expect(foreign).toEqual([]);
      expect(problems).toEqual([]);
      expect(requests.some((u) => u.endsWith('/swagger-ui-bundle.js'))).toBe(true);
    } finally {
      await context.close();
    }
  });
});
