/**
 * Headers of every dashboard response, set by the dashboard itself so they hold whatever global middleware (helmet
 * or none) did before: the page runs only its own bundled script and style and talks only to this service.
 */
const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const DASHBOARD_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

/** index.html is revalidated on every load, so a new build is picked up at once. */
export const INDEX_CACHE_CONTROL = 'no-cache';
/** Asset names carry a content hash: a changed file gets a new name, so a cached one never goes stale. */
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
