import * as fs from 'node:fs';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Browser, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { makeOrg, makeUser, setRuleActive, submit, type Actor } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { DashboardPage, launchBrowser, openDashboard, openTab, screenshot, signIn } from './support/browser';
import { buildDashboard } from './support/dashboard-app';

const DAY = 86_400_000;

/** The Spend view as an admin and as a researcher sees it (PGlite): cost per day, top users and orgs, quotas. */
describe('dashboard: spend (browser)', () => {
  let app: TestApp;
  let browser: Browser;
  let dashboard: DashboardPage;
  let page: Page;
  let ada: Actor;
  let dashboardDir: string;

  /** A finished job of `who`, `daysAgo` days back, that cost `cost`. */
  async function spent(who: Actor | null, daysAgo: number, cost: number) {
    const res = await submit(app, who?.key ?? app.adminKey, { config: {}, hardware_profile: 'l40s' });
    expect(res.status).toBe(201);
    const db = app.app.get<DataSource>(getDataSourceToken());
    await db.query(
      `UPDATE jobs SET status = 'completed', cost_usd = $2, external_id = $1, created_at = $3, started_at = $3,
              completed_at = $3 WHERE job_id = $1`,
      [res.body.job_id, cost, new Date(Date.now() - daysAgo * DAY)],
    );
    await db.query(`UPDATE queue_entries SET status = 'completed' WHERE job_id = $1`, [res.body.job_id]);
  }
  const quota = async (body: Record<string, unknown>) => {
    const res = await http(app.url, 'POST', '/api/quotas', { key: app.adminKey, body });
    expect(res.status).toBe(201);
  };

  beforeAll(async () => {
    dashboardDir = buildDashboard();
    [app, browser] = await Promise.all([
      startTestApp({
        db: 'pglite',
        env: { SIMPLETUNER_DASHBOARD_DIR: dashboardDir, SIMPLETUNER_QUEUE_INTERVAL: '3600' },
      }),
      launchBrowser(),
    ]);
    await setRuleActive(app, 'First Job Review', false);
    const vision = await makeOrg(app, 'vision-team');
    const audio = await makeOrg(app, 'audio-team');
    ada = await makeUser(app, 'ada', 'researcher', vision);
    const ben = await makeUser(app, 'ben', 'researcher', vision);
    const cy = await makeUser(app, 'cy', 'researcher', audio);
    for (const [who, days, cost] of [
      [ada, 0, 4.2],
      [ada, 1, 7.5],
      [ada, 3, 2.25],
      [ben, 2, 11],
      [ben, 5, 3.1],
      [cy, 4, 6.4],
      [cy, 8, 1.2],
      [null, 0, 2],
      [null, 6, 5.5],
    ] as const)
      await spent(who, days, cost);
    // One job not finished (two hours on an h100, about $11): its estimate shows as open.
    const open = await submit(app, ada.key, { config: { estimated_duration_seconds: 7200 }, hardware_profile: 'h100' });
    expect(open.status).toBe(201);
    await quota({ scope: 'global', type: 'cost_daily', limit: 10, action: 'warn' });
    await quota({ scope: 'org', scope_id: vision, type: 'cost_monthly', limit: 40, action: 'block' });
    await quota({ scope: 'user', scope_id: ada.id, type: 'jobs_per_day', limit: 5, action: 'block' });
    await quota({ scope: 'provider', scope_id: 'simulator', type: 'concurrent_jobs', limit: 4, action: 'block' });
    dashboard = await openDashboard(browser, app.url);
    page = dashboard.page;
  });

  afterAll(async () => {
    await dashboard?.close();
    await browser?.close();
    await app?.stop();
    if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('shows an admin the cost per day, the top users and orgs, and its quotas with used/limit bars', async () => {
    await signIn(page, app.adminKey);
    await openTab(page, 'Spend');
    await page.getByRole('img', { name: 'Cost per day' }).locator('canvas').waitFor();
    const users = page.locator('#spend-users');
    await users.getByRole('row', { name: /ben/ }).waitFor();
    // Ranked by cost and open estimates: ada's unfinished job puts her above ben.
    await expect(users.getByRole('row').nth(1).textContent()).resolves.toContain('ada');
    await expect(users.getByRole('row').nth(2).textContent()).resolves.toContain('ben');
    await expect(page.locator('#spend-orgs').textContent()).resolves.toContain('vision-team');
    // The admin's own: the global daily cost quota and the provider's concurrency.
    const meters = page.getByRole('meter');
    await meters.first().waitFor();
    await expect(meters.count()).resolves.toBe(2);
    await screenshot(page, 'spend-admin');
  });

  it('shows a researcher the quotas that apply to them', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, ada.key);
    await openTab(page, 'Spend');
    await page.getByRole('meter', { name: 'Cost per month (org)' }).waitFor();
    await expect(page.getByRole('meter').count()).resolves.toBe(4);
    await expect(page.locator('#spend-users').textContent()).resolves.toContain('ada');
    await screenshot(page, 'spend-researcher');
  });
});
