import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { makeOrg, makeUser, setRuleActive, submit, type Actor } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { DashboardPage, launchBrowser, openDashboard, openTab, screenshot, signIn } from './support/browser';
import { buildDashboard } from './support/dashboard-app';

/**
 * The dashboard while dispatch is paused (PostgreSQL, simulator, Debian's Chromium): everyone sees the banner, only
 * those allowed get Resume, and a scheduled job shows when it starts.
 */
describe('dashboard: paused dispatch and scheduled starts (browser)', () => {
  let app: TestApp;
  let browser: Browser;
  let researcher: Actor;
  let dashboardDir: string;
  const pages: DashboardPage[] = [];

  const open = async () => {
    const opened = await openDashboard(browser, app.url);
    pages.push(opened);
    return opened.page;
  };

  beforeAll(async () => {
    dashboardDir = buildDashboard();
    [app, browser] = await Promise.all([
      startTestApp({ env: { SIMPLETUNER_DASHBOARD_DIR: dashboardDir, SIMPLETUNER_QUEUE_INTERVAL: '1' } }),
      launchBrowser(),
    ]);
    const org = await makeOrg(app, 'ops-lab');
    researcher = await makeUser(app, 'rosa', 'researcher', org);
    await setRuleActive(app, 'First Job Review', false);
  });
  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('shows the pause to a researcher without Resume, and a scheduled job with its start time', async () => {
    const paused = await http(app.url, 'POST', '/api/queue/pause', {
      key: app.adminKey,
      body: { scope: 'global', reason: 'Provider maintenance until 06:00 UTC' },
    });
    expect(paused.status).toBe(201);
    const startAfter = new Date(Date.now() + 2 * 3600_000).toISOString();
    const job = await submit(app, researcher.key, {
      config_name: 'night-run',
      config: {},
      provider: 'simulator',
      start_after: startAfter,
    });
    expect(job.status).toBe(201);
    const ready = await submit(app, researcher.key, { config_name: 'day-run', config: {}, provider: 'simulator' });
    expect(ready.status).toBe(201);

    const page = await open();
    await signIn(page, researcher.key);
    const banner = page.getByRole('status', { name: 'Dispatch paused' });
    await banner.getByText('Dispatch is paused for every job').waitFor();
    expect(await banner.textContent()).toContain('Provider maintenance until 06:00 UTC');
    expect(await banner.getByRole('button', { name: 'Resume' }).count()).toBe(0);
    const row = page.getByRole('row', { name: /night-run/ });
    await row.getByText(/^Starts /).waitFor();
    await screenshot(page, 'queue-paused-researcher');

    // The Queue tab lists it after the pending ones, with its start time and why it waits.
    await openTab(page, 'Queue');
    const queued = page.locator('#panel-queue tr', { hasText: 'night-run' });
    await queued.getByText(/^from /).waitFor();
    expect(await queued.textContent()).toContain('Scheduled: waits for its start time');
    // A job ready to start waits for the pause alone: no guess at when someone resumes.
    const held = page.locator('#panel-queue tr', { hasText: 'day-run' });
    await held.getByText('after a resume').waitFor();
    expect(await held.textContent()).toContain('Dispatch is paused');
    await screenshot(page, 'queue-scheduled-researcher');
  });

  it('lets an admin resume from the banner, which then goes away', async () => {
    const page = await open();
    await signIn(page, app.adminKey);
    const banner = page.getByRole('status', { name: 'Dispatch paused' });
    await banner.getByRole('button', { name: 'Resume' }).waitFor();
    await screenshot(page, 'queue-paused-admin');
    await banner.getByRole('button', { name: 'Resume' }).click();
    await banner.waitFor({ state: 'detached' });
    const pauses = await http(app.url, 'GET', '/api/queue/pauses', { key: app.adminKey });
    expect(pauses.body.pauses).toEqual([]);
    await screenshot(page, 'queue-resumed-admin');
  });
});
