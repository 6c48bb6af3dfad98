import * as fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';
import { DashboardPage, launchBrowser, openDashboard, openTab, screenshot, signIn } from './support/browser';
import { buildDashboard } from './support/dashboard-app';

/** An admin making a webhook channel in the Notifications view, testing, rotating, disabling it and redelivering. */
describe('dashboard: notifications (browser)', () => {
  let app: TestApp;
  let browser: Browser;
  let dashboard: DashboardPage;
  let page: Page;
  let dashboardDir: string;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    dashboardDir = buildDashboard();
    await receiver.start();
    [app, browser] = await Promise.all([
      startTestApp({
        db: 'pglite',
        env: {
          SIMPLETUNER_DASHBOARD_DIR: dashboardDir,
          SIMPLETUNER_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
          SIMPLETUNER_NOTIFY_INTERVAL: '0.3',
          SIMPLETUNER_QUEUE_INTERVAL: '3600',
        },
      }),
      launchBrowser(),
    ]);
    dashboard = await openDashboard(browser, app.url);
    page = dashboard.page;
    await signIn(page, app.adminKey);
  });
  afterAll(async () => {
    await dashboard?.close();
    await browser?.close();
    await app?.stop();
    await receiver.stop();
    if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('creates a webhook channel, shows its secret once, tests, rotates and disables it, and redelivers', async () => {
    await openTab(page, 'Notifications');
    const form = page.getByRole('form', { name: 'New channel' });
    await form.getByLabel('Name', { exact: true }).fill('CI hook');
    await form.getByLabel('URL', { exact: true }).fill(`${receiver.url}/ci`);
    await form.getByLabel('Events', { exact: true }).fill('job.submitted, job.completed');
    await form.getByRole('button', { name: 'Create channel' }).click();
    await page
      .getByLabel('Signing secret')
      .getByText(/whsec_/)
      .waitFor();
    const row = page
      .getByRole('table', { name: 'Notification channels' })
      .getByRole('row', { name: 'Channel CI hook' });
    await row.getByText('Active').waitFor();
    await screenshot(page, 'notifications-created');

    await row.getByRole('button', { name: 'Test' }).click();
    await page
      .getByRole('status')
      .getByText(/Test of CI hook: succeeded \(200\)/)
      .waitFor();
    expect(receiver.requests.map((r) => r.json?.type)).toEqual(['test']);

    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'browser-notify', config: {} },
    });
    expect(submit.status).toBe(201);
    await receiver.waitFor((r) => r.some((x) => x.json?.type === 'job.submitted'));
    await row.getByRole('button', { name: 'Rotate secret' }).click();
    await page
      .getByRole('status')
      .getByText(/New secret for CI hook/)
      .waitFor();
    const deliveries = page.getByRole('table', { name: 'Recent deliveries' });
    const submitted = deliveries.getByRole('row').filter({ hasText: 'job.submitted' });
    await submitted.getByText('succeeded').waitFor();
    await submitted.getByRole('button', { name: 'Redeliver' }).click();
    await page.getByRole('status').getByText('Redeliver: succeeded').waitFor();
    await receiver.waitFor((r) => r.filter((x) => x.json?.type === 'job.submitted').length === 2);
    const ids = receiver.requests.filter((x) => x.json?.type === 'job.submitted').map((x) => x.headers['webhook-id']);
    expect(new Set(ids).size).toBe(1);

    await row.getByRole('button', { name: 'Disable' }).click();
    await row.getByText('Disabled').waitFor();
    await screenshot(page, 'notifications-disabled');
  });
});
