import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { completedJob, settledArtifacts, sha256 } from '../support/artifact-fixtures';
import { makeOrg, makeUser, setRuleActive, submit, type Actor } from '../support/approval-fixtures';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';
import { DashboardPage, horizontalOverflow, launchBrowser, openDashboard, screenshot, signIn } from './support/browser';
import { buildDashboard } from './support/dashboard-app';

/** A <progress> element, as far as these tests read it (the test build has no DOM types). */
type Bar = { value: number };

/** The text of the definition list entry `label` inside `scope`. */
const fact = (scope: ReturnType<Page['locator']>, label: string) =>
  scope.locator('div', { has: scope.page().locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd');

let app: TestApp;
let fake: FakeReplicate;
let browser: Browser;
/** One researcher per live run: each may have two jobs running (the default per-user limit), and the runs overlap. */
let researcher: Actor;
let logReader: Actor;
let watcher: Actor;
let dashboardDir: string;
let downloads: string;
const pages: DashboardPage[] = [];

const open = async (viewport?: { width: number; height: number }) => {
  const opened = await openDashboard(browser, app.url, viewport);
  pages.push(opened);
  return opened;
};
/** Nothing went to another host, no key was put in a URL and the page's script threw nothing. */
const expectClean = (p: DashboardPage, keys: string[]) => {
  expect(p.foreign).toEqual([]);
  expect(p.requests.filter((u) => keys.some((k) => u.includes(k)))).toEqual([]);
  expect(p.pageErrors).toEqual([]);
};

beforeAll(async () => {
  dashboardDir = buildDashboard();
  downloads = makeTempDir('st-downloads-');
  fake = await startFakeReplicate();
  [app, browser] = await Promise.all([
    startTestApp({
      env: {
        SIMPLETUNER_DASHBOARD_DIR: dashboardDir,
        REPLICATE_API_BASE: fake.url,
        REPLICATE_API_TOKEN: fake.token,
        // A simulator run: queued, running (its log growing, its training bar moving), completed, one step of
        // 16 s each, seen by a poll every second and, while someone reads its log, fetched every second; a
        // progress event at most every second.
        SIMULATOR_STEP_SECONDS: '16',
        SIMPLETUNER_LOG_FOLLOW_INTERVAL: '1',
        SIMPLETUNER_PROGRESS_EVENT_SECONDS: '1',
        SIMPLETUNER_QUEUE_INTERVAL: '1',
        SIMPLETUNER_JOB_POLL_INTERVAL: '1',
        SIMPLETUNER_ARTIFACT_COPY_INTERVAL: '1',
      },
    }),
    launchBrowser(),
  ]);
  const org = await makeOrg(app, 'vision-lab');
  [researcher, logReader, watcher] = await Promise.all(
    ['rita', 'lola', 'walt'].map((name) => makeUser(app, name, 'researcher', org)),
  );
  await setRuleActive(app, 'First Job Review', false);
});

afterAll(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  await browser?.close();
  await app?.stop();
  await fake?.stop();
  if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  if (downloads) fs.rmSync(downloads, { recursive: true, force: true });
});

/**
 * The job detail page in Debian's Chromium against the real app (PostgreSQL): a simulator job watched while it runs
 * (its timeline and cost filling in live), and a Replicate job completed on the fake Replicate with outputs the
 * service copied, downloaded from the page.
 *
 * The three live runs take a simulator job's whole life each (two steps of 16 s), so they run at the same time on
 * one app, each in its own page with its own job (`it.concurrent`; the app and browser are set up at the top level,
 * which Jest runs before it starts concurrent tests).
 */
describe('dashboard: job detail (browser)', () => {
  it.concurrent(
    'opens a job from the table and follows it live: status, timeline, estimate then actual cost',
    async () => {
      const opened = await open();
      const { page } = opened;
      await signIn(page, researcher.key);
      const submitted = await submit(app, researcher.key, {
        config_name: 'portrait-lora',
        provider: 'simulator',
        hardware_profile: 'l40s',
        config: {},
      });
      expect(submitted.status).toBe(201);
      const jobId: string = submitted.body.job_id;

      await page
        .getByRole('row', { name: /portrait-lora/ })
        .getByRole('link', { name: 'portrait-lora' })
        .click();
      expect(new URL(page.url()).hash).toBe(`#jobs/${jobId}`);
      const detail = page.locator('section.job-detail');
      await detail.getByRole('heading', { name: /portrait-lora/, level: 2 }).waitFor();
      const timeline = page.getByRole('list', { name: 'Timeline' });
      await timeline.getByText('Submitted').waitFor();

      // The status moves without a reload, and the timeline gains a line for each change.
      const running = detail.locator('.view-head').getByText('running', { exact: true });
      await running.waitFor({ timeout: 40_000 });
      await timeline.getByText('Status: running').waitFor();
      const cost = page.locator('.cost');
      const estimate = (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: researcher.key })).body;
      await expect(fact(cost, 'Estimate').textContent()).resolves.toBe(`$${estimate.cost_estimate.toFixed(2)}`);
      await expect(fact(cost, 'Actual').textContent()).resolves.toBe('known when the run ends');
      await expect(fact(detail, 'Provider').textContent()).resolves.toMatch(/^simulator \(/);
      await screenshot(page, 'job-detail-running');

      await detail.locator('.view-head').getByText('completed', { exact: true }).waitFor({ timeout: 40_000 });
      await timeline.getByText('Status: completed').waitFor();
      const done = (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: researcher.key })).body;
      expect(done.cost_usd).not.toBeNull();
      await expect(fact(cost, 'Actual').textContent()).resolves.toBe(
        done.cost_usd > 0 && done.cost_usd < 0.01 ? '< $0.01' : `$${done.cost_usd.toFixed(2)}`,
      );
      await fact(cost, 'Difference').waitFor();
      await page.getByText('This job left no outputs.').waitFor();
      await screenshot(page, 'job-detail-completed');

      // Back to the list by the link, and by the browser's back button to the job again.
      await page.getByRole('link', { name: '← All jobs' }).click();
      await page.getByRole('heading', { name: 'Jobs', level: 2 }).waitFor();
      await page.goBack();
      await detail.getByRole('heading', { name: /portrait-lora/, level: 2 }).waitFor();
      expectClean(opened, [researcher.key]);
    },
  );

  it.concurrent(
    'tails the log as it grows, stays where the reader scrolled up, and follows again on Follow',
    async () => {
      const opened = await open();
      const { page } = opened;
      await signIn(page, logReader.key);
      const submitted = await submit(app, logReader.key, {
        config_name: 'log-follow',
        provider: 'simulator',
        config: {},
      });
      expect(submitted.status).toBe(201);
      await page.goto(`${app.url}/dashboard#jobs/${submitted.body.job_id}`);
      const log = page.locator('pre.log-lines');
      await page.getByRole('status', { name: 'Log stream' }).filter({ hasText: 'Live' }).waitFor();
      const box = () =>
        log.evaluate((el) => ({
          top: el.scrollTop,
          height: el.scrollHeight,
          view: el.clientHeight,
          text: el.textContent ?? '',
        }));
      const atBottom = (b: Awaited<ReturnType<typeof box>>) => b.height - b.top - b.view <= 8;

      // Lines arrive while the run trains; the newest stays in view.
      await page.waitForFunction(
        (el) => el !== null && el.scrollHeight > el.clientHeight * 1.5,
        await log.elementHandle(),
        { timeout: 40_000 },
      );
      const following = await box();
      expect(atBottom(following)).toBe(true);
      expect(following.text).toMatch(/Steps: +\d+%/);

      // Scrolled up: new lines keep coming, the view stays where the reader is.
      await log.evaluate((el) => el.scrollTo(0, 0));
      const follow = page.getByRole('button', { name: 'Follow' });
      await follow.waitFor();
      const before = await box();
      await page.waitForFunction(
        ([el, length]) => (el?.textContent ?? '').length > length,
        [await log.elementHandle(), before.text.length] as const,
        { timeout: 20_000 },
      );
      const paused = await box();
      expect(paused.top).toBe(0);
      expect(paused.text.startsWith(before.text)).toBe(true);
      await screenshot(page, 'job-detail-log-paused');

      await follow.click();
      await follow.waitFor({ state: 'detached' });
      expect(atBottom(await box())).toBe(true);

      // The run ends: the whole log is there and the stream says it is complete.
      await page
        .getByRole('status', { name: 'Log stream' })
        .filter({ hasText: 'Complete' })
        .waitFor({ timeout: 40_000 });
      const stored = await http(app.url, 'GET', `/api/cloud/jobs/${submitted.body.job_id}/logs?tail=10000`, {
        key: logReader.key,
      });
      const done = await box();
      expect(done.text).toBe(stored.body.text);
      expect(atBottom(done)).toBe(true);
      await screenshot(page, 'job-detail-log-complete');
      expectClean(opened, [logReader.key]);
    },
  );

  it.concurrent(
    'moves the progress bar as the run trains: in the jobs table, and on the job page with time left and loss',
    async () => {
      const opened = await open();
      const { page } = opened;
      await signIn(page, watcher.key);
      const submitted = await submit(app, watcher.key, {
        config_name: 'progress-run',
        provider: 'simulator',
        config: {},
      });
      expect(submitted.status).toBe(201);
      const value = (bar: ReturnType<Page['locator']>) => bar.evaluate((el) => (el as unknown as Bar).value);
      /** Waits until the bar shows more than `than` percent. */
      const movesPast = async (bar: ReturnType<Page['locator']>, than: number) =>
        page.waitForFunction(
          ([el, v]) => (el as unknown as Bar).value > v,
          [await bar.elementHandle(), than] as const,
          {
            timeout: 20_000,
          },
        );

      // The table: a bar appears on the running row and moves, from progress events alone (no reload).
      const row = page.getByRole('row', { name: /progress-run/ });
      const rowBar = row.getByRole('progressbar', { name: 'Progress of progress-run' });
      await rowBar.waitFor({ timeout: 45_000 });
      const inTable = await value(rowBar);
      await movesPast(rowBar, inTable);
      await screenshot(page, 'jobs-progress');

      // The job's page: the bar with stage, step, time left and loss, still moving.
      await row.getByRole('link', { name: 'progress-run' }).click();
      const panel = page.locator('.progress-panel');
      const bar = panel.getByRole('progressbar', { name: 'Training progress' });
      await bar.waitFor();
      const onPage = await value(bar);
      expect(onPage).toBeGreaterThan(inTable);
      await movesPast(bar, onPage);
      // Mid-run: training, or one of the checkpoint and validation pauses between its steps.
      await expect(panel.locator('.progress-stage strong').textContent()).resolves.toMatch(
        /^(Training|Saving a checkpoint|Validating)$/,
      );
      await expect(fact(panel, 'Step').textContent()).resolves.toMatch(/^\d+ \/ 200$/);
      await expect(fact(panel, 'Epoch').textContent()).resolves.toMatch(/^[1-4] \/ 4$/);
      await expect(fact(panel, 'Time left').textContent()).resolves.toMatch(/^about \d+ s$/);
      await expect(fact(panel, 'Loss').textContent()).resolves.toMatch(/^0\.\d{4}$/);
      await screenshot(page, 'job-detail-progress');

      // The run ends at 100 %, with nothing left to wait for.
      await page.locator('.view-head').getByText('completed', { exact: true }).waitFor({ timeout: 40_000 });
      await page.waitForFunction((el) => (el as unknown as Bar).value === 100, await bar.elementHandle());
      await expect(fact(panel, 'Time left').textContent()).resolves.toBe('—');
      expectClean(opened, [watcher.key]);
    },
  );

  it('lists a completed job’s copied outputs and downloads one with the key in a header, bytes intact', async () => {
    fake.outputs.serve('/files/run7/model.safetensors', { size: 180 * 1024 + 3, contentType: 'application/x-st' });
    fake.outputs.serve('/files/run7/sample.png', { size: 2048, contentType: 'image/png' });
    const jobId = await completedJob(
      app,
      fake,
      { weights: fake.outputUrl('run7/model.safetensors'), samples: [fake.outputUrl('run7/sample.png')] },
      { config_name: 'flux-outputs', hub_model_id: 'acme/flux-outputs' },
    );
    const stored = await settledArtifacts(app, jobId);
    expect(stored.map((a) => a.status)).toEqual(['stored', 'stored']);

    // A shared link opens the page straight on the job.
    const opened = await open();
    const { page } = opened;
    await signIn(page, app.adminKey);
    await page.goto(`${app.url}/dashboard#jobs/${jobId}`);
    await page.getByRole('heading', { name: /flux-outputs/, level: 2 }).waitFor();
    const hub = page.getByRole('link', { name: 'Hub: acme/flux-outputs' });
    await expect(hub.getAttribute('href')).resolves.toBe('https://huggingface.co/acme/flux-outputs');

    const artifacts = page.locator('table.artifacts');
    const row = artifacts.getByRole('row', { name: /model\.safetensors/ });
    await row.getByText('stored', { exact: true }).waitFor();
    await expect(row.locator('td[data-label="Size"]').textContent()).resolves.toBe('184 kB');
    await page.getByRole('list', { name: 'Timeline' }).getByText('Output stored').first().waitFor();
    await screenshot(page, 'job-detail-artifacts');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: 'Download model.safetensors' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('model.safetensors');
    const saved = path.join(downloads, 'model.safetensors');
    await download.saveAs(saved);
    expect(sha256(fs.readFileSync(saved))).toBe(sha256(fake.outputs.bytes('/files/run7/model.safetensors')));
    const fetched = opened.requests.filter((u) => u.includes(`/artifacts/model.safetensors`));
    expect(fetched).toHaveLength(1);
    expectClean(opened, [app.adminKey]);
  });

  it('fits a 390 px screen without sideways scrolling', async () => {
    const jobs = await http(app.url, 'GET', '/api/cloud/jobs?limit=10', { key: app.adminKey });
    const job = jobs.body.jobs.find((j: { config_name: string }) => j.config_name === 'flux-outputs');
    const opened = await open({ width: 390, height: 844 });
    const { page } = opened;
    await signIn(page, app.adminKey);
    await page.goto(`${app.url}/dashboard#jobs/${job.job_id}`);
    await page.locator('table.artifacts').getByText('stored', { exact: true }).first().waitFor();
    await page.getByRole('list', { name: 'Timeline' }).getByText('Submitted').waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, 'narrow-390-job-detail');
    expectClean(opened, [app.adminKey]);
  });
});
