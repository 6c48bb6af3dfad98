import * as fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { makeOrg, makeUser, submit, type Actor } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { DashboardPage, launchBrowser, openDashboard, openTab, screenshot, signIn } from './support/browser';
import { buildDashboard } from './support/dashboard-app';

/** An admin deciding approval requests and changing a priority, as seen in the browser (PGlite, simulator). */
describe('dashboard: approvals and priorities (browser)', () => {
  let app: TestApp;
  let browser: Browser;
  let dashboard: DashboardPage;
  let page: Page;
  let ada: Actor;
  let ben: Actor;
  let dashboardDir: string;

  const pendingRequest = (name: string) =>
    page
      .getByRole('list', { name: 'Pending approval requests' })
      .getByRole('listitem', { name: `Request for ${name}` });
  const historyRow = (name: string) =>
    page.getByRole('table', { name: 'Decided and expired requests' }).getByRole('row', { name: new RegExp(name) });
  const failure = () => page.getByRole('alert', { name: 'Last failed action' });

  beforeAll(async () => {
    dashboardDir = buildDashboard();
    [app, browser] = await Promise.all([
      // The embedded database, as `npm run start:prod` runs with no configuration.
      startTestApp({
        db: 'pglite',
        env: {
          SIMPLETUNER_DASHBOARD_DIR: dashboardDir,
          SIMULATOR_STEP_SECONDS: '0.3',
          SIMPLETUNER_QUEUE_INTERVAL: '1',
        },
      }),
      launchBrowser(),
    ]);
    const org = await makeOrg(app, 'diffusion-team');
    ada = await makeUser(app, 'ada', 'researcher', org);
    ben = await makeUser(app, 'ben', 'researcher', org);
    // First jobs: the seeded "First Job Review" rule holds each for a lead or admin.
    for (const [who, name] of [
      [ada, 'sdxl-portraits'],
      [ben, 'flux-landscapes'],
    ] as const) {
      const res = await submit(app, who.key, { config_name: name, config: {}, hardware_profile: 'l40s' });
      expect(res.body.requires_approval).toBe(true);
    }
    dashboard = await openDashboard(browser, app.url);
    page = dashboard.page;
    await signIn(page, app.adminKey);
  });

  afterAll(async () => {
    await dashboard?.close();
    await browser?.close();
    await app?.stop();
    if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('lists pending requests with requester, cost, reason and time left, and Approve/Reject for an admin', async () => {
    await openTab(page, 'Approvals');
    const request = pendingRequest('sdxl-portraits');
    await request.waitFor();
    await request.getByText('ada', { exact: true }).waitFor();
    await request
      .getByText(/first job/i)
      .first()
      .waitFor();
    await request.getByText(/^expires in 23 h/).waitFor();
    await expect(request.getByRole('button', { name: /^Approve/ }).isEnabled()).resolves.toBe(true);
    await expect(request.getByLabel('Reason').isEditable()).resolves.toBe(true);
    await screenshot(page, 'approvals-admin');
  });

  it('lets an admin raise a waiting job’s priority from the Queue view', async () => {
    await openTab(page, 'Queue');
    const row = page.getByRole('row', { name: /flux-landscapes/ });
    await row.getByText('Waiting for approval').waitFor();
    await row.getByLabel('Priority for flux-landscapes').fill('35');
    await row.getByRole('button', { name: /^Set priority/ }).click();
    await row.getByText('(override; base 10)').waitFor();
    await expect(row.getByRole('cell').nth(2).textContent()).resolves.toContain('35');
    await page.getByText('Limits and slot usage').waitFor();
    await screenshot(page, 'queue-admin');
  });

  it('approve: the request leaves the pending list, shows in history, and the job runs to completed', async () => {
    await openTab(page, 'Approvals');
    await pendingRequest('sdxl-portraits')
      .getByRole('button', { name: /^Approve/ })
      .click();
    await pendingRequest('sdxl-portraits').waitFor({ state: 'detached' });
    await historyRow('sdxl-portraits').getByText('approved', { exact: true }).waitFor();

    await openTab(page, 'Jobs');
    await page
      .getByRole('row', { name: /sdxl-portraits/ })
      .getByText('completed', { exact: true })
      .waitFor({
        timeout: 20_000,
      });
  });

  it('reject without a reason is refused with the API’s message and correlation id; with one it is rejected', async () => {
    await openTab(page, 'Approvals');
    const request = pendingRequest('flux-landscapes');
    const refused = page.waitForResponse((r) => r.url().endsWith('/reject'));
    await request.getByRole('button', { name: /^Reject/ }).click();
    const response = await refused;
    expect(response.status()).toBe(400);
    const body = (await response.json()) as { message: string; correlation_id: string };
    await failure().getByText(body.message, { exact: false }).waitFor();
    await failure().getByText(body.correlation_id).waitFor();
    expect(response.headers()['x-correlation-id']).toBe(body.correlation_id);
    await expect(request.isVisible()).resolves.toBe(true);
    await screenshot(page, 'approvals-reject-refused');

    await request.getByLabel('Reason').fill('Use the shared LoRA base first');
    await request.getByRole('button', { name: /^Reject/ }).click();
    await request.waitFor({ state: 'detached' });
    const row = historyRow('flux-landscapes');
    await row.getByText('rejected', { exact: true }).waitFor();
    await row.getByText('Use the shared LoRA base first').waitFor();
    await page.getByText('No request is waiting for a decision.').waitFor();

    await openTab(page, 'Jobs');
    await page
      .getByRole('row', { name: /flux-landscapes/ })
      .getByText('cancelled', { exact: true })
      .waitFor();
  });

  it('shows the admin every view (screenshots for review)', async () => {
    await failure().getByRole('button', { name: 'Dismiss' }).click();
    await failure()
      .getByText(/failed/)
      .waitFor({ state: 'detached' });
    await submit(app, ada.key, { config_name: 'sdxl-broken', config: { simulate_failure: true } });
    await submit(app, ben.key, {
      config_name: 'flux-big-run',
      config: { estimated_duration_seconds: 40_000 },
      hardware_profile: 'h100',
    });
    await page
      .getByRole('row', { name: /sdxl-broken/ })
      .getByText('failed', { exact: true })
      .waitFor({ timeout: 20_000 });
    await page.getByRole('row', { name: /flux-big-run/ }).waitFor();
    await screenshot(page, 'jobs-admin');
    await openTab(page, 'Workers');
    await page.getByRole('row', { name: /queue_processing/ }).waitFor();
    await page.getByText(/Job status polling/).waitFor();
    await screenshot(page, 'workers-admin');
    await openTab(page, 'Activity');
    await page.getByRole('listitem').filter({ hasText: 'approval_approved' }).waitFor();
    await screenshot(page, 'activity-admin');

    expect(dashboard.foreign).toEqual([]);
    expect(dashboard.pageErrors).toEqual([]);
    const keys = [app.adminKey, ada.key, ben.key];
    expect(dashboard.requests.filter((u) => keys.some((k) => u.includes(k)))).toEqual([]);
    // The API answers what the page showed.
    const requests = await http(app.url, 'GET', '/api/approvals/requests', { key: app.adminKey });
    expect(requests.body.pending_count).toBe(1);
  });
});
