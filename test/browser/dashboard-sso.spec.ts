import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { http } from '../support/http';
import { freePort, oidcEnv, OidcProvider, startOidcProvider } from '../support/oidc-provider';
import { startTestApp, TestApp } from '../support/test-app';
import { connection, DashboardPage, launchBrowser, openDashboard, screenshot } from './support/browser';
import { buildDashboard } from './support/dashboard-app';

/**
 * Single sign-on in Debian's Chromium: "Sign in with SSO" on the dashboard, the real local OpenID provider's
 * sign-in and consent pages, back on the dashboard as the level the provider's groups map to, live over the
 * session cookie; signing out (a change: it carries the session's CSRF token) ends the session.
 */
describe('dashboard: single sign-on (browser)', () => {
  let app: TestApp;
  let provider: OidcProvider;
  let providerOrigin: string;
  let browser: Browser;
  let dashboardDir: string;
  let opened: DashboardPage | undefined;

  beforeAll(async () => {
    dashboardDir = buildDashboard();
    const [appPort, providerPort] = [await freePort(), await freePort()];
    const appUrl = `http://127.0.0.1:${appPort}`;
    providerOrigin = `http://127.0.0.1:${providerPort}`;
    provider = await startOidcProvider(providerPort, appUrl, {
      lee: { preferred_username: 'lee', email: 'lee@example.com', groups: ['st-leads'] },
    });
    [app, browser] = await Promise.all([
      startTestApp({
        port: appPort,
        env: { ...oidcEnv(providerPort, appUrl), SIMPLETUNER_DASHBOARD_DIR: dashboardDir },
      }),
      launchBrowser(),
    ]);
  });

  afterAll(async () => {
    await opened?.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    await provider?.stop();
    if (dashboardDir) fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  it('signs in through the provider and lands on the dashboard as the mapped level', async () => {
    opened = await openDashboard(browser, app.url, undefined, [providerOrigin]);
    const { page, context } = opened;
    await screenshot(page, 'sso-sign-in');
    await page.getByRole('button', { name: 'Sign in with SSO' }).click();
    await page.waitForURL((u) => u.origin === providerOrigin);
    await page.locator('input[name="login"]').fill('lee');
    await page.locator('input[name="password"]').fill('any');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await connection(page).filter({ hasText: 'Live' }).waitFor({ timeout: 15_000 });
    await screenshot(page, 'sso-signed-in');
    expect(new URL(page.url()).origin).toBe(app.url);
    await expect(page.locator('.whoami').textContent()).resolves.toBe('Signed in as lee lead');
    const session = (await context.cookies(app.url)).find((c) => c.name === 'st_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
    expect(opened.pageErrors).toEqual([]);

    const loggedOut = page.waitForResponse((r) => r.url().endsWith('/api/auth/logout'));
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect((await loggedOut).status()).toBe(204);
    await page.getByRole('button', { name: 'Sign in with SSO' }).waitFor();
    const after = await http(app.url, 'GET', '/api/auth/session', {
      headers: { Cookie: `st_session=${session.value}` },
    });
    expect(after.status).toBe(401);
  });
});
