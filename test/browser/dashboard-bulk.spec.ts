import * as fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { CHEAP, EXPENSIVE, makeOrg, makeUser, setRuleActive, submit, type Actor } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { DashboardPage, launchBrowser, openDashboard, openTab, screenshot, signIn } from './support/browser';
import { buildDashboard } from './support/dashboard-app';

/** Retry and bulk actions in the browser: the jobs table's multi-select, Retry, and bulk decisions (PostgreSQL). */
describe('dashboard: retry and bulk actions (browser)', () => {
  let app: TestApp;
  let browser: Browser;
  let dashboardDir: string;
  let rita: Actor;
  let lee: Actor;
  const pages: DashboardPage[] = [];

  const open = async (key: string): Promise<Page> => {
    const opened = await openDashboard(browser, app.url);
    pages.push(opened);
    await signIn(opened.page, key);
    return opened.page;
  };
  const job = async (name: string, body: Record<string, unknown> = CHEAP) => {
    const res = await submit(app, rita.key, { ...body, config_name: name });
    expect(res.status).toBe(201);
    return res.body.job_id as string;
  };
  const statusOf = async (jobId: string) =>
    (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey })).body.status as string;

  beforeAll(async () => {
    dashboardDir = buildDashboard();
    [app, browser] = await Promise.all([
      // Nothing dispatches: the jobs stay pending while the page acts on them.
      startTestApp({
        env: {
          SIMPLETUNER_DASHBOARD_DIR: dashboardDir,
          SIMPLETUNER_QUEUE_INTERVAL: '3600',
          SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false',
          SIMPLETUNER_SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
        },
      }),
      launchBrowser(),
    ]);
    const org = await makeOrg(app, 'ops-lab');
    rita = await makeUser(app, 'rita', 'researcher', org);
    lee = await makeUser(app, 'lee', 'lead', org);
    await setRuleActive(app, 'First Job Review', false);
  });

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('cancels selected jobs in one go and shows why one of them could not be', async () => {
    const [a, b] = [await job('bulk-alpha'), await job('bulk-beta')];
    const done = await job('bulk-gamma');
    await http(app.url, 'POST', `/api/cloud/jobs/${done}/cancel`, { key: rita.key });
    const page = await open(rita.key);
    await openTab(page, 'Jobs');
    for (const name of ['bulk-alpha', 'bulk-beta', 'bulk-gamma']) {
      await page.getByRole('checkbox', { name: new RegExp(`^Select ${name}`) }).check();
    }
    const bar = page.getByRole('toolbar', { name: 'Selected jobs' });
    await bar.getByText('3 selected').waitFor();
    await bar.getByRole('button', { name: 'Cancel selected' }).click();
    const outcome = page.getByRole('status', { name: 'Bulk result' });
    await outcome.getByText('2 succeeded, 1 failed').waitFor();
    await outcome.getByText(/bulk-gamma .*is already cancelled/).waitFor();
    expect([await statusOf(a), await statusOf(b)]).toEqual(['cancelled', 'cancelled']);
    await bar.getByText('Select jobs to act on several at once').waitFor();
    await screenshot(page, 'jobs-bulk-cancel');
  });

  it('retries a finished job from its row and from its page, linking the two jobs', async () => {
    const old = await job('retry-me');
    await http(app.url, 'POST', `/api/cloud/jobs/${old}/cancel`, { key: rita.key });
    const page = await open(rita.key);
    await openTab(page, 'Jobs');
    await page.getByRole('button', { name: 'Retry retry-me' }).click();
    // The retry is a new pending job of the same name, with Cancel rather than Retry.
    await page.getByRole('button', { name: 'Cancel retry-me' }).waitFor();

    await page.goto(`${app.url}/dashboard#jobs/${old}`);
    await page.getByRole('link', { name: /^Retried as / }).waitFor();
    await page.getByRole('button', { name: 'Retry job' }).click();
    await page.getByRole('link', { name: `Retry of ${old.slice(0, 8)}` }).waitFor();
    await page.getByRole('button', { name: 'Cancel job' }).waitFor();
    await screenshot(page, 'job-detail-retry');
  });

  it('asks again for the secrets of a job that had some before retrying it', async () => {
    const old = await job('retry-secret', { ...CHEAP, secrets: { hf_token: 'hf_RetrySecretValue0123456789' } });
    await http(app.url, 'POST', `/api/cloud/jobs/${old}/cancel`, { key: rita.key });
    const page = await open(rita.key);
    await page.goto(`${app.url}/dashboard#jobs/${old}`);
    await page.getByRole('button', { name: 'Retry job' }).click();
    const form = page.getByRole('form', { name: 'Retry with secrets' });
    const send = form.getByRole('button', { name: 'Retry with these' });
    await expect(send.isDisabled()).resolves.toBe(true);
    await form.getByLabel('hf_token').fill('hf_RetrySecretValue0123456789');
    await screenshot(page, 'job-detail-retry-secrets');
    await send.click();
    await page.getByRole('link', { name: `Retry of ${old.slice(0, 8)}` }).waitFor();
    const retriedBy = (await http(app.url, 'GET', `/api/cloud/jobs/${old}`, { key: rita.key })).body.retried_by;
    const retried = (await http(app.url, 'GET', `/api/cloud/jobs/${retriedBy}`, { key: rita.key })).body;
    expect(retried).toMatchObject({ retry_of: old, secrets: ['hf_token'], status: 'pending' });
    expect(page.url()).toContain(retriedBy as string);
  });

  it('lets a lead approve several requests at once', async () => {
    const held = [await job('big-one', EXPENSIVE), await job('big-two', EXPENSIVE)];
    const own = await submit(app, lee.key, { ...EXPENSIVE, config_name: 'lead-own' });
    expect(own.body.requires_approval).toBe(true);
    const page = await open(lee.key);
    await openTab(page, 'Approvals');
    for (const name of ['big-one', 'big-two']) {
      await page.getByRole('checkbox', { name: `Select the request for ${name}` }).check();
    }
    // Its own request has nothing to select: someone else decides it.
    await expect(page.getByRole('checkbox', { name: 'Select the request for lead-own' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Approve selected' }).click();
    await page.getByRole('status', { name: 'Bulk result' }).getByText('2 succeeded, 0 failed').waitFor();
    for (const id of held) {
      const view = (await http(app.url, 'GET', `/api/cloud/jobs/${id}`, { key: app.adminKey })).body;
      const request = await http(app.url, 'GET', `/api/approvals/requests/${view.approval_id}`, { key: lee.key });
      expect(request.body.status).toBe('approved');
    }
    await screenshot(page, 'approvals-bulk');
  });
});
