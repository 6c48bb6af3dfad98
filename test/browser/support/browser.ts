import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

/** Debian's Chromium (package `chromium`); Playwright's own browser download is never used. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Without the background-networking flags Chromium keeps calling home, which this machine refuses. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', '..', 'test-results', 'screenshots');

// Checked as the test file loads, before its beforeAll starts an app: a failure there while an app was still booting
// left that boot running after the file's environment was torn down, and its errors failed the next file's tests.
if (!fs.existsSync(CHROMIUM_PATH)) {
  throw new Error(`No Chromium at ${CHROMIUM_PATH}: install the Debian package (apt-get install -y chromium)`);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** A page of the dashboard with a record of every request it made, and any request to another host refused. */
export interface DashboardPage {
  page: Page;
  context: BrowserContext;
  /** Every URL the page asked for, in order. */
  requests: string[];
  /** URLs to any other origin: refused, and listed so a test can assert there were none. */
  foreign: string[];
  /** Uncaught errors in the page's script. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openDashboard(
  browser: Browser,
  appUrl: string,
  viewport: { width: number; height: number } = { width: 1280, height: 800 },
  /** Other origins the page may reach (a single sign-on provider). */
  allowed: string[] = [],
): Promise<DashboardPage> {
  const origin = new URL(appUrl).origin;
  const context = await browser.newContext({ viewport, serviceWorkers: 'block' });
  const requests: string[] = [];
  const foreign: string[] = [];
  const pageErrors: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    const to = new URL(url).origin;
    if (to === origin || allowed.includes(to)) return route.continue();
    foreign.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${origin}/`);
  return { page, context, requests, foreign, pageErrors, close: () => context.close() };
}

/** Signs in through the form and waits until the live stream is connected. */
export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await connection(page).filter({ hasText: 'Live' }).waitFor({ timeout: 15_000 });
}

export const connection = (page: Page) => page.getByRole('status', { name: 'Connection' });

export async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
}

/** A screenshot for reviewers, in a folder git ignores. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Page width beyond the viewport: > 0 means a horizontal scroll bar. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}
