import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { configureStructuredLogging } from '../../src/logging';
import { EXPENSIVE, makeOrg, makeUser, setRuleActive, submit, type Actor } from '../support/approval-fixtures';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';
import {
  connection,
  DashboardPage,
  horizontalOverflow,
  launchBrowser,
  openDashboard,
  openTab,
  screenshot,
  signIn,
} from './support/browser';
import { buildDashboard } from './support/dashboard-app';

/**
 * The dashboard in Debian's Chromium against the real app (PostgreSQL, simulator): what a researcher, a viewer and
 * an admin see. Every page of the file is also checked for requests to other hosts and for the key in a URL.
 */
describe('dashboard: sign-in, live jobs, levels, narrow screens (browser)', () => {
  let app: TestApp;
  let browser: Browser;
  let logDir: string;
  let researcher: Actor;
  let viewer: Actor;
  const pages: DashboardPage[] = [];
  let dashboardDir: string;

  const open = async (viewport?: { width: number; height: number }) => {
    const opened = await openDashboard(browser, app.url, viewport);
    pages.push(opened);
    return opened;
  };

  beforeAll(async () => {
    dashboardDir = buildDashboard();
    logDir = makeTempDir('st-dashboard-log-');
    [app, browser] = await Promise.all([
      startTestApp({
        env: {
          SIMPLETUNER_DASHBOARD_DIR: dashboardDir,
          SIMULATOR_STEP_SECONDS: '0.3',
          SIMPLETUNER_QUEUE_INTERVAL: '1',
          SIMPLETUNER_LOG_FILE: path.join(logDir, 'cloud.log'),
        },
      }),
      launchBrowser(),
    ]);
    // From here on every line the service can write (DEBUG) goes to the file the key check reads; stdout is left
    // out so the test output stays readable.
    configureStructuredLogging({ level: 'DEBUG', logFile: path.join(logDir, 'cloud.log'), stdout: false });
    const org = await makeOrg(app, 'vision-lab');
    researcher = await makeUser(app, 'rita', 'researcher', org);
    viewer = await makeUser(app, 'victor', 'viewer', org);
    // A researcher's first job would wait for a lead; this file is about the live job list.
    await setRuleActive(app, 'First Job Review', false);
  });

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    configureStructuredLogging({ level: 'ERROR', logFile: null });
    fs.rmSync(logDir, { recursive: true, force: true });
    if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('serves the page at / and shows the API error for a wrong key, typed and sent with the keyboard', async () => {
    const { page } = await open();
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    const wrongKey = 'st_' + 'x'.repeat(32);
    const expected = await http(app.url, 'GET', '/api/users/me', { key: wrongKey });
    expect(expected.status).toBe(401);

    await page.getByLabel('API key').focus();
    await page.keyboard.type(wrongKey);
    await page.keyboard.press('Enter');

    await expect(page.getByRole('alert').filter({ hasText: expected.body.message }).textContent()).resolves.toBe(
      expected.body.message,
    );
    await expect(page.getByRole('button', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'sign-in-wrong-key');
  });

  it('shows a job submitted through the API within 2 s, without a reload, and its status live up to completed', async () => {
    const { page, requests } = await open();
    await signIn(page, researcher.key);
    await page.getByText('No jobs yet').waitFor();
    // Nothing to act on yet: no bulk toolbar (its own job brings it, below).
    const bulkBar = page.getByRole('toolbar', { name: 'Selected jobs' });
    await expect(bulkBar.count()).resolves.toBe(0);
    const documentLoads = () => requests.filter((u) => new URL(u).pathname === '/dashboard').length;
    const loadsBefore = documentLoads();

    const submitted = await submit(app, researcher.key, { config_name: 'sdxl-live', config: {} });
    expect(submitted.status).toBe(201);
    const row = page.getByRole('row', { name: /sdxl-live/ });
    await row.waitFor({ timeout: 2000 });
    await bulkBar.waitFor();

    await row.getByText('completed', { exact: true }).waitFor({ timeout: 20_000 });
    expect(documentLoads()).toBe(loadsBefore);
    await expect(row.getByRole('button', { name: /^Cancel/ }).count()).resolves.toBe(0);
    await screenshot(page, 'jobs-researcher');

    // Keyboard: arrow keys move between the tabs.
    await page.getByRole('tab', { name: 'Jobs' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByRole('tab', { name: 'New job' }).getAttribute('aria-selected')).resolves.toBe('true');
    await page.getByRole('heading', { name: 'New job', level: 2 }).waitFor();
    await page.keyboard.press('End');
    await expect(
      page.getByRole('tab', { name: 'Activity' }).evaluate((el) => el === el.ownerDocument.activeElement),
    ).resolves.toBe(true);

    // The Activity tab lists the events that moved the row.
    const jobShortId = submitted.body.job_id.slice(0, 8);
    await page
      .getByRole('listitem')
      .filter({ hasText: `job_status_changed job ${jobShortId}: running → completed` })
      .waitFor();
  });

  it('lets a researcher cancel an own job that waits, and filters the list by status', async () => {
    const { page } = await open();
    await signIn(page, researcher.key);
    // Over the "High Cost Jobs" threshold: held for a lead, so it stays pending until cancelled.
    const held = await submit(app, researcher.key, { ...EXPENSIVE, config_name: 'flux-held' });
    expect(held.body.requires_approval).toBe(true);
    const row = page.getByRole('row', { name: /flux-held/ });
    await row.getByText('pending', { exact: true }).waitFor();

    await row.getByRole('button', { name: /^Cancel/ }).click();
    await row.getByText('cancelled', { exact: true }).waitFor();
    await expect(row.getByRole('button', { name: /^Cancel/ }).count()).resolves.toBe(0);

    await page.getByLabel('Status').selectOption('cancelled');
    await page.getByRole('row', { name: /sdxl-live/ }).waitFor({ state: 'detached' });
    await expect(page.getByRole('row', { name: /flux-held/ }).isVisible()).resolves.toBe(true);
  });

  it('shows a viewer the organisation’s jobs and approvals but no Cancel, Approve or priority control', async () => {
    await submit(app, researcher.key, { ...EXPENSIVE, config_name: 'flux-awaiting' });
    const { page } = await open();
    await signIn(page, viewer.key);

    await page.getByRole('row', { name: /flux-awaiting/ }).waitFor();
    await screenshot(page, 'jobs-viewer');
    await openTab(page, 'Approvals');
    await page.getByRole('listitem', { name: /flux-awaiting/ }).waitFor();
    await page.getByText('Needs a lead or above to decide.').waitFor();
    await screenshot(page, 'approvals-viewer');
    await openTab(page, 'Queue');
    await page.getByText('Limits and slot usage are shown to admins only.').waitFor();
    await openTab(page, 'Workers');
    await page.getByText('Background tasks are shown to admins only.').waitFor();

    for (const tab of ['Jobs', 'Queue', 'Approvals', 'Workers']) {
      await openTab(page, tab);
      await page.getByRole('heading', { name: tab, level: 2 }).waitFor();
      for (const name of [/^Cancel/, /^Approve/, /^Reject/, /^Set priority/, /^Clear override/]) {
        await expect(page.getByRole('button', { name }).count()).resolves.toBe(0);
      }
      await expect(page.getByRole('spinbutton').count()).resolves.toBe(0);
    }
  });

  it('has no horizontal scroll at 390 px on any view', async () => {
    const { page } = await open({ width: 390, height: 844 });
    await signIn(page, app.adminKey);
    for (const tab of ['Jobs', 'Queue', 'Approvals', 'Workers', 'Activity']) {
      await openTab(page, tab);
      await page.getByRole('heading', { name: tab, level: 2 }).waitFor();
      await page.getByText(/^Loading/).waitFor({ state: 'detached' });
      expect({ tab, overflow: await horizontalOverflow(page) }).toEqual({ tab, overflow: 0 });
      await screenshot(page, `narrow-390-${tab.toLowerCase()}`);
    }
  });

  it('shows a loading state, then an API error with its correlation id, and recovers on Retry', async () => {
    const { page } = await open();
    let failing = true;
    // Only the job list answers slowly and then fails, as a database restart would make it.
    await page.route(/\/api\/cloud\/jobs\?/, async (route) => {
      if (!failing) return route.continue();
      await new Promise((r) => setTimeout(r, 700));
      return route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({
          error: 'internal_error',
          message: 'Database restarting',
          correlation_id: 'c0ffee123456',
        }),
      });
    });
    await signIn(page, researcher.key);
    await page.getByRole('status').filter({ hasText: 'Loading jobs…' }).waitFor();
    const error = page.getByRole('alert').filter({ hasText: 'Could not load jobs' });
    await error.getByText('Database restarting (correlation id c0ffee123456)').waitFor();
    await screenshot(page, 'jobs-load-error');

    failing = false;
    await error.getByRole('button', { name: 'Retry' }).click();
    await error.waitFor({ state: 'detached' });
    await page.getByRole('row', { name: /sdxl-live/ }).waitFor();
  });

  it('signs out: the key is forgotten and the form is back', async () => {
    const { page } = await open();
    await signIn(page, researcher.key);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    await expect(page.evaluate<number>('sessionStorage.length')).resolves.toBe(0);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect(connection(page).count()).resolves.toBe(0);
  });

  it('made every request to this service, never put a key in a URL, and never wrote a key to the log', async () => {
    const origin = new URL(app.url).origin;
    const all = pages.flatMap((p) => p.requests);
    expect(all.length).toBeGreaterThan(10);
    expect(all.some((u) => u.startsWith(`${origin}/api/events`))).toBe(true);
    expect(pages.flatMap((p) => p.foreign)).toEqual([]);
    expect(all.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(pages.flatMap((p) => p.pageErrors)).toEqual([]);

    const keys = [app.adminKey, researcher.key, viewer.key];
    expect(all.filter((u) => keys.some((k) => u.includes(k)))).toEqual([]);

    const log = fs.readFileSync(path.join(logDir, 'cloud.log'), 'utf8');
    // The file holds this run's activity (DEBUG level), and none of the keys used for it.
    expect(log.includes('Job submitted successfully')).toBe(true);
    expect(keys.filter((key) => log.includes(key))).toEqual([]);
  });
});
