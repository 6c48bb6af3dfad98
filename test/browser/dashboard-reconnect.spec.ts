import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Browser } from 'playwright-core';
import { http } from '../support/http';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import {
  connection,
  DashboardPage,
  launchBrowser,
  openDashboard,
  openTab,
  screenshot,
  signIn,
} from './support/browser';
import { AppOnPort, buildDashboard, startAppOnPort } from './support/dashboard-app';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The server under an open page goes away and comes back on the same port and database. Meanwhile a second
 * instance on that database takes a job, so its events are published while the page is disconnected: they must
 * reach the page through the replay that Last-Event-ID asks for.
 */
describe('dashboard: the event stream drops and resumes (browser, PostgreSQL, two instances)', () => {
  let database: TestDatabase;
  let browser: Browser;
  let dashboard: DashboardPage;
  const apps: AppOnPort[] = [];
  let dashboardDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dashboardDir = buildDashboard();
    env = { SIMPLETUNER_DASHBOARD_DIR: dashboardDir, SIMULATOR_STEP_SECONDS: '0.3', SIMPLETUNER_QUEUE_INTERVAL: '1' };
    [database, browser] = await Promise.all([createTestDatabase(), launchBrowser()]);
  });

  afterAll(async () => {
    await dashboard?.close();
    await browser?.close();
    for (const app of apps) await app.close().catch(() => undefined);
    await database?.drop();
    if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('shows reconnecting, then live, and the events published meanwhile', async () => {
    const port = await freePort();
    const first = await startAppOnPort({ port, database, env });
    apps.push(first);
    const adminKey = first.adminKey;
    dashboard = await openDashboard(browser, first.url);
    const { page } = dashboard;
    await signIn(page, adminKey);
    // A first job gives the page an event id to resume from (a page that never saw an event reloads its lists).
    await http(first.url, 'POST', '/api/cloud/jobs/submit', {
      key: adminKey,
      body: { config_name: 'lora-before-outage', config: {} },
    });
    await page
      .getByRole('row', { name: /lora-before-outage/ })
      .getByText('completed', { exact: true })
      .waitFor();

    const other = await startAppOnPort({ port: 0, database, adminKey, env });
    apps.push(other);

    await first.close();
    await connection(page).filter({ hasText: 'Reconnecting' }).waitFor({ timeout: 10_000 });
    await screenshot(page, 'reconnecting');

    const submitted = await http(other.url, 'POST', '/api/cloud/jobs/submit', {
      key: adminKey,
      body: { config_name: 'lora-during-outage', config: {} },
    });
    expect(submitted.status).toBe(201);
    const jobId: string = submitted.body.job_id;
    // Let the other instance carry the job to its end while the page is still cut off.
    for (let i = 0; i < 100; i++) {
      const job = await http(other.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: adminKey });
      if (job.body.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await expect(connection(page).textContent()).resolves.toMatch(/Reconnecting/);

    const resumed = page.waitForRequest(
      (r) => r.url().endsWith('/api/events') && r.headers()['last-event-id'] !== undefined,
      { timeout: 20_000 },
    );
    apps.push(await startAppOnPort({ port, database, adminKey, env }));
    expect(Number((await resumed).headers()['last-event-id'])).toBeGreaterThan(0);
    await connection(page).filter({ hasText: 'Live' }).waitFor({ timeout: 20_000 });

    const row = page.getByRole('row', { name: /lora-during-outage/ });
    await row.getByText('completed', { exact: true }).waitFor({ timeout: 5000 });
    await screenshot(page, 'reconnected-jobs');
    await openTab(page, 'Activity');
    const shortId = jobId.slice(0, 8);
    for (const text of [`job_submitted job ${shortId}`, `job_status_changed job ${shortId}: running → completed`]) {
      await page.getByRole('listitem').filter({ hasText: text }).waitFor();
    }

    expect(dashboard.foreign).toEqual([]);
    expect(dashboard.pageErrors).toEqual([]);
    expect(dashboard.requests.filter((u) => u.includes(adminKey))).toEqual([]);
  });
});
