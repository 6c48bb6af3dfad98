/** The API key lives for this browser tab only (sessionStorage): closing the tab or signing out forgets it. */
const STORAGE_KEY = 'simpletuner.apiKey';

/**
 * How the page proves who it is: an API key (sent as a header, never a cookie), or a single sign-on session (an
 * HttpOnly cookie the browser sends itself, plus the session's CSRF token on every change).
 */
export type Credentials = { kind: 'key'; key: string } | { kind: 'session'; csrfToken: string };

/** The headers a request of this method carries for these credentials. */
export function authHeaders(credentials: Credentials, method = 'GET'): Record<string, string> {
  if (credentials.kind === 'key') return { 'X-API-Key': credentials.key };
  return method === 'GET' || method === 'HEAD' ? {} : { 'X-CSRF-Token': credentials.csrfToken };
}

/** Whether fetch sends cookies: only a session needs them; a key never travels with cookies. */
export const cookieMode = (credentials: Credentials): RequestCredentials =>
  credentials.kind === 'session' ? 'same-origin' : 'omit';

export function loadKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
