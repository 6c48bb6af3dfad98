/**
 * Secret redaction (SPEC §2), applied by our formatter to every key and string of a line, whatever the level:
 * pino's own `redact` never sees the object we format. Two nets: keys that name a secret, and values that look
 * like one wherever they appear (message, extra, exception message and stack).
 */
export const REDACTED = '[REDACTED]';

/** Keys whose value is a secret: Authorization, X-API-Key, cookies, webhook secrets, tokens, passwords... */
const SECRET_KEY =
  /authorization|cookie|passw(or)?d|secret|token|api[-_]?key|apikey|credential|private[-_]?key|signature|^x-api-key$/i;
/** ...except names that describe a secret without holding it. */
const HARMLESS_KEY = /(_id|_ids|_count|_prefix|_at|_type|_name|_length|_set|_configured|Id|Count|Prefix)$/;

const keyCache = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  let hit = keyCache.get(key);
  if (hit === undefined) {
    hit = SECRET_KEY.test(key) && !HARMLESS_KEY.test(key);
    if (keyCache.size < 10_000) keyCache.set(key, hit);
  }
  return hit;
}

// Value patterns: our API keys, Standard-Webhooks secrets, Replicate tokens, bearer/basic credentials,
// secret-named query parameters and passwords in URLs.
const VALUE_PATTERNS: Array<[RegExp, string]> = [
  [/\bst_[A-Za-z0-9]{32}\b/g, REDACTED],
  [/\bwhsec_[A-Za-z0-9+/=_-]+/g, REDACTED],
  [/\br8_[A-Za-z0-9]{8,}/g, REDACTED],
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${REDACTED}`],
  // `Basic`/`Token` are also plain words: only a credential-looking value (a digit or `=`) goes.
  [/\b(Basic|Token)\s+(?=[A-Za-z0-9._~+/=-]*[0-9=])[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [
    /([?&;](?:api[-_]?key|apikey|token|access_token|refresh_token|secret|client_secret|password|passwd|signature|sig|auth|key)=)[^&\s"'#]+/gi,
    `$1${REDACTED}`,
  ],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:)[^@\s/]+@/gi, `$1${REDACTED}@`],
  // `password=…`, `token: …`, `"api_key": "…"` inside free text (an error message, a dumped config).
  [
    /(\b(?:password|passwd|pwd|secret|client_secret|webhook_secret|api[-_]?key|apikey|access_token|refresh_token|upload_token|token)["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"'&,;]+/gi,
    `$1${REDACTED}`,
  ],
];
/** One cheap test before any replace: most strings hold none of these. */
const MAYBE_SECRET = /st_|whsec_|r8_|bearer|basic|token|=|@|:/i;

export function redactString(s: string): string {
  if (!MAYBE_SECRET.test(s)) return s;
  let out = s;
  for (const [re, replacement] of VALUE_PATTERNS) out = out.replace(re, replacement);
  return out;
}
