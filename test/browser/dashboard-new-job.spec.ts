import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { makeOrg, makeUser, type Actor } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import {
  DashboardPage,
  horizontalOverflow,
  launchBrowser,
  openDashboard,
  openTab,
  screenshot,
  signIn,
} from './support/browser';
import { buildDashboard } from './support/dashboard-app';
import { zipArchive } from './support/zip';

/** The error the page shows for a control: the element its aria-describedby names as `…-error`, or null. */
async function fieldError(page: Page, label: string): Promise<string | null> {
  const ids = (await page.getByLabel(label, { exact: true }).getAttribute('aria-describedby')) ?? '';
  const errorId = ids.split(' ').find((id) => id.endsWith('-error'));
  return errorId ? page.locator(`#${errorId}`).textContent() : null;
}

/** Waits until the control shows an error containing `text`, and returns the whole error. */
async function waitForFieldError(page: Page, label: string, text: string): Promise<string> {
  const control = page.getByLabel(label, { exact: true });
  await page.locator('.field-error', { hasText: text }).first().waitFor();
  const error = await fieldError(page, label);
  if (!error?.includes(text)) {
    throw new Error(`${label}: expected an error with "${text}", got ${error} (${await control.getAttribute('id')})`);
  }
  return error;
}

const submitRequests = (p: DashboardPage) => p.requests.filter((u) => u.endsWith('/api/cloud/jobs/submit')).length;

/**
 * The New job form in Debian's Chromium against the real app (PostgreSQL, simulator provider): an archive uploaded
 * with its progress, a submission that waits for an approval and one that is queued, inline errors as the user types
 * and the API's own 400 beside the field it names.
 */
describe('dashboard: New job (browser)', () => {
  let app: TestApp;
  let browser: Browser;
  let researcher: Actor;
  let viewer: Actor;
  let dashboardDir: string;
  const pages: DashboardPage[] = [];
  const hfToken = `hf_${'Q'.repeat(34)}`;
  // A dataset of a few KB: three "images" (random bytes do not compress) and their captions.
  const zip = zipArchive({
    'portraits/001.png': randomBytes(1500),
    'portraits/001.txt': Buffer.from('a portrait of sks person, studio light'),
    'portraits/002.png': randomBytes(1500),
    'portraits/002.txt': Buffer.from('a portrait of sks person, outdoors'),
    'portraits/003.png': randomBytes(1500),
  });

  const open = async (viewport?: { width: number; height: number }) => {
    const opened = await openDashboard(browser, app.url, viewport);
    pages.push(opened);
    return opened;
  };

  beforeAll(async () => {
    dashboardDir = buildDashboard();
    [app, browser] = await Promise.all([
      startTestApp({
        env: {
          SIMPLETUNER_DASHBOARD_DIR: dashboardDir,
          SIMPLETUNER_QUEUE_INTERVAL: '1',
          // On PostgreSQL the service seals a job's secrets only with a configured key.
          SIMPLETUNER_SECRET_KEY: randomBytes(32).toString('base64'),
        },
      }),
      launchBrowser(),
    ]);
    const org = await makeOrg(app, 'portrait-lab');
    researcher = await makeUser(app, 'nora', 'researcher', org);
    viewer = await makeUser(app, 'vera', 'viewer', org);
  });

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('uploads an archive with a progress bar to 100 %, submits, shows the approval it waits for and the job in Jobs', async () => {
    const dashboard = await open();
    const { page } = dashboard;
    await signIn(page, researcher.key);
    await openTab(page, 'New job');
    await page.getByRole('heading', { name: 'New job', level: 2 }).waitFor();

    await page.getByLabel('Config name').fill('portrait-lora');
    await page.getByLabel('Config JSON').fill('{"model_family": "flux", "model_type": "lora", "lora_rank": 16}');
    await page
      .getByLabel('Dataloader JSON')
      .fill('[{"id": "portraits", "type": "local", "instance_data_dir": "/data/portraits"}]');
    // Each profile with its price per hour, from the providers route: h100 at $0.001525/s is $5.49/h.
    await page.getByLabel('Hardware profile').selectOption('h100');
    await expect(page.getByLabel('Hardware profile').locator('option:checked').textContent()).resolves.toBe(
      'h100 · $5.49/h',
    );
    const estimate = await http(app.url, 'GET', '/api/cloud/cost-estimate?hardware_profile=h100', {
      key: researcher.key,
    });
    await page
      .getByRole('status', { name: 'Cost estimate' })
      .filter({ hasText: `Estimated cost $${(estimate.body.estimated_cost as number).toFixed(2)} on h100` })
      .waitFor();

    // Windows labels a zip application/x-zip-compressed: the page sends the type the API takes.
    await page
      .getByLabel('Archive file')
      .setInputFiles({ name: 'portraits.zip', mimeType: 'application/x-zip-compressed', buffer: zip });
    await page.getByRole('status').filter({ hasText: '100 % · uploaded portraits.zip' }).waitFor();
    const bar = page.getByRole('progressbar', { name: 'Upload of portraits.zip' });
    // A <progress> at its end: its value is its max (the file's size).
    const atEnd = (el: unknown) => {
      const progress = el as { value: number; max: number };
      return progress.value === progress.max && progress.max > 1;
    };
    await expect(bar.evaluate(atEnd)).resolves.toBe(true);

    await page.getByLabel('Hub model id').fill('nora/portrait-lora');
    await page.getByLabel('Max train steps').fill('500');
    await page.getByLabel('HF token').fill(hfToken);
    await screenshot(page, 'new-job-filled');

    await page.getByRole('button', { name: 'Submit job' }).click();
    const outcome = page.getByRole('region', { name: /Submitted portrait-lora/ });
    await outcome.waitFor();
    // A researcher's first job waits for a lead (the seeded "First Job Review" rule): the page says why.
    const jobs = await http(app.url, 'GET', '/api/cloud/jobs', { key: researcher.key });
    const job = jobs.body.jobs.find((j: { config_name: string }) => j.config_name === 'portrait-lora');
    const approval = await http(app.url, 'GET', `/api/approvals/requests/${job.approval_id}`, { key: researcher.key });
    await outcome.getByText(`Waits for approval: ${approval.body.reason}. A lead or above decides before`).waitFor();
    await outcome.getByText('after approval', { exact: true }).waitFor();
    await expect(page.getByLabel('HF token').inputValue()).resolves.toBe('');
    await screenshot(page, 'new-job-awaiting-approval');

    // The simulator keeps the archive in the app's data folder, byte for byte, and the job was given that upload.
    const uploads = await http(app.url, 'GET', '/api/cloud/uploads', { key: researcher.key });
    expect(uploads.body.uploads).toHaveLength(1);
    const upload = uploads.body.uploads[0];
    expect(upload).toMatchObject({ filename: 'portraits.zip', content_type: 'application/zip', size: zip.length });
    expect(upload.sha256).toBe(createHash('sha256').update(zip).digest('hex'));
    expect(fs.readFileSync(path.join(app.dataDir, 'uploads', upload.upload_id)).equals(zip)).toBe(true);
    expect(job).toMatchObject({ hardware_profile: 'h100', status: 'pending', requires_approval: true });

    await outcome.getByRole('link', { name: 'Jobs' }).click();
    const row = page.getByRole('row', { name: /portrait-lora/ });
    await row.getByText('pending', { exact: true }).waitFor();
    await expect(page.getByRole('tab', { name: 'Jobs' }).getAttribute('aria-selected')).resolves.toBe('true');

    // The token went in the submission only: not in the tab's storage, not in any URL.
    const stored = await page.evaluate<string>('JSON.stringify([{ ...sessionStorage }, { ...localStorage }])');
    expect(stored.includes(hfToken)).toBe(false);
    expect(dashboard.requests.filter((u) => u.includes(hfToken))).toEqual([]);
  });

  it('flags bad JSON and a credential as the user types, and shows the API’s 400 next to the field it names', async () => {
    const dashboard = await open();
    const { page } = dashboard;
    await signIn(page, researcher.key);
    await openTab(page, 'New job');
    await page.getByLabel('Config name').fill('portrait-lora-v2');

    // Half-typed JSON is flagged at once, before any submit.
    await page.getByLabel('Dataloader JSON').pressSequentially('[{"id": "portraits",');
    await waitForFieldError(page, 'Dataloader JSON', 'Not valid JSON');
    await page.getByLabel('Dataloader JSON').fill('{"id": "portraits"}');
    await waitForFieldError(page, 'Dataloader JSON', 'Must be a JSON array of objects');
    await page.getByLabel('Config JSON').fill('{"learning_rate": 0.0001, "hub": {"HF_Token": "hf_abc"}}');
    await waitForFieldError(page, 'Config JSON', '“hub.HF_Token” is a credential: put it in the HF token field');
    await page.getByLabel('Priority').fill('20');
    await waitForFieldError(page, 'Priority', 'From 0 to 10');
    await screenshot(page, 'new-job-inline-errors');

    // Submit with errors: nothing is sent and the first field in error takes the focus.
    const before = submitRequests(dashboard);
    await page.getByRole('button', { name: 'Submit job' }).click();
    await expect(page.evaluate<string>('document.activeElement.id')).resolves.toBe('config-json');
    expect(submitRequests(dashboard)).toBe(before);

    await page.getByLabel('Config JSON').fill('{"learning_rate": 0.0001}');
    await page.getByLabel('Dataloader JSON').fill('[{"id": "portraits", "type": "local"}]');
    await page.getByLabel('Priority').fill('5');
    await page.getByLabel('Give its URL').check();
    const badUrl = 'http://example.com/datasets/portraits.zip';
    await page.getByLabel('Archive URL').fill(badUrl);
    await expect(page.locator('.field-error').count()).resolves.toBe(0);

    // The API refuses the plain-http URL; its message for `dataset.url` appears under the URL field.
    const direct = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: researcher.key,
      body: { config_name: 'probe', config: {}, dataset: { url: badUrl } },
    });
    expect(direct.status).toBe(400);
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/cloud/jobs/submit'));
    await page.getByRole('button', { name: 'Submit job' }).click();
    const answer = await refused;
    expect(answer.status()).toBe(400);
    await expect(waitForFieldError(page, 'Archive URL', direct.body.details['dataset.url'])).resolves.toBe(
      direct.body.details['dataset.url'],
    );
    const summary = page.getByRole('alert').filter({ hasText: 'The job was not submitted' });
    await summary.getByText(answer.headers()['x-correlation-id'], { exact: true }).waitFor();
    await expect(page.evaluate<string>('document.activeElement.id')).resolves.toBe('dataset-url');
    await screenshot(page, 'new-job-api-400');

    // Fixed: the error goes as the field changes, and the job is queued (no approval: not the first job any more).
    await page.getByLabel('Archive URL').fill('https://example.com/datasets/portraits.zip');
    await expect(fieldError(page, 'Archive URL')).resolves.toBeNull();
    const accepted = page.waitForResponse((r) => r.url().endsWith('/api/cloud/jobs/submit'));
    await page.getByRole('button', { name: 'Submit job' }).click();
    const submitted = await (await accepted).json();
    expect(submitted.requires_approval).toBe(false);
    const outcome = page.getByRole('region', { name: /Submitted portrait-lora-v2/ });
    await outcome.getByText(`${submitted.queue_position} when submitted`, { exact: true }).waitFor();
    await expect(summary.count()).resolves.toBe(0);
    await screenshot(page, 'new-job-queued');

    await openTab(page, 'Jobs');
    await page.getByRole('row', { name: /portrait-lora-v2/ }).waitFor();
  });

  it('is not offered to a viewer, even by its address', async () => {
    const { page } = await open();
    await signIn(page, viewer.key);
    await page.getByRole('heading', { name: 'Jobs', level: 2 }).waitFor();
    await expect(page.getByRole('tab', { name: 'New job' }).count()).resolves.toBe(0);
    await page.evaluate('location.hash = "#new-job"');
    await page.getByRole('heading', { name: 'Jobs', level: 2 }).waitFor();
    await expect(page.getByRole('heading', { name: 'New job' }).count()).resolves.toBe(0);
  });

  it('fits a 390 px screen, with an admin’s priority range of 0–50', async () => {
    const { page } = await open({ width: 390, height: 844 });
    await signIn(page, app.adminKey);
    await openTab(page, 'New job');
    await page.getByLabel('Config name').fill('narrow-check');
    await page.getByLabel('Config JSON').fill('{"lora_rank": ');
    await waitForFieldError(page, 'Config JSON', 'Not valid JSON');
    await page.getByLabel('Priority').fill('50');
    await page
      .getByLabel('Archive file')
      .setInputFiles({ name: 'narrow.tar.gz', mimeType: 'application/octet-stream', buffer: zip });
    await page.getByRole('status').filter({ hasText: '100 % · uploaded narrow.tar.gz' }).waitFor();
    await page.getByRole('status', { name: 'Cost estimate' }).filter({ hasText: 'Estimated cost' }).waitFor();
    await expect(fieldError(page, 'Priority')).resolves.toBeNull();
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, 'narrow-390-new-job');
  });

  it('made every request to this service and never put a key or the token in a URL', async () => {
    const origin = new URL(app.url).origin;
    const all = pages.flatMap((p) => p.requests);
    expect(all.some((u) => u.startsWith(`${origin}/api/cloud/uploads?filename=`))).toBe(true);
    expect(pages.flatMap((p) => p.foreign)).toEqual([]);
    expect(all.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(pages.flatMap((p) => p.pageErrors)).toEqual([]);
    const secrets = [app.adminKey, researcher.key, viewer.key, hfToken];
    expect(all.filter((u) => secrets.some((s) => u.includes(s)))).toEqual([]);
  });
});
