/**
 * The one list of what counts as a secret, used for log lines (every key and string, whatever the level), job
 * responses (a training config) and event payloads. Two nets: names that name a secret, and values that look like
 * one wherever they appear. Each pattern has its test in test/unit/secrets.spec.ts.
 */
export const REDACTED = '[REDACTED]';

/**
 * Names whose value is a secret: passwords, secrets, tokens, API and private keys, anything `*_key`, access keys,
 * credentials, anything about auth (Authorization, hub_auth), cookies, signatures.
 */
const SECRET_KEY =
  /passw(or)?d|passwd|^pwd$|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|(^|[-_])key$|credential|auth|cookie|signature|session[-_]?id/i;
/** ...except names that describe one without holding it (a secret's id, prefix, expiry, an author). */
const HARMLESS_KEY =
  /(_count|_prefix|_at|_type|_name|_length|_set|_configured|_url|_endpoint|Count|Prefix)$|^(author|authors|authored|authorship)$|_author$/i;
/** An id is harmless (`api_key_id`, `token_id`) unless it is half of a credential pair (`aws_access_key_id`). */
const HARMLESS_ID = /(_id|_ids|Id)$/;
const CREDENTIAL_ID = /access[-_]?key|secret|private|session/i;

const keyCache = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  let hit = keyCache.get(key);
  if (hit === undefined) {
    hit = SECRET_KEY.test(key) && !HARMLESS_KEY.test(key) && !(HARMLESS_ID.test(key) && !CREDENTIAL_ID.test(key));
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
  // Provider tokens of known shapes: Hugging Face, OpenAI-style, GitHub, AWS access key ids, Slack.
  [/\bhf_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bsk-[A-Za-z0-9_-]{20,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, REDACTED],
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
const MAYBE_SECRET = /st_|whsec_|r8_|hf_|sk-|gh[pousr]_|AKIA|ASIA|xox|bearer|basic|token|=|@|:/i;

export function redactString(s: string): string {
  if (!MAYBE_SECRET.test(s)) return s;
  let out = s;
  for (const [re, replacement] of VALUE_PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Deeper than this a value is shown as a marker (request bodies are refused past 64 levels; old rows may be deeper). */
const MAX_REDACT_DEPTH = 64;
const TRUNCATED = '[TRUNCATED]';

type Container = Record<string, unknown> | unknown[];

/**
 * A copy of `value` with secret-named keys and secret-looking strings masked, made without recursion so that no
 * stored object, however deep, can overflow the stack (past MAX_REDACT_DEPTH it is cut with a marker).
 */
export function redactSecrets(value: unknown): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  const copyOf = (v: object): Container => (Array.isArray(v) ? [] : {});
  const root = copyOf(value);
  const stack: Array<{ from: Container; to: Container; depth: number }> = [
    { from: value as Container, to: root, depth: 1 },
  ];
  while (stack.length > 0) {
    const { from, to, depth } = stack.pop()!;
    const isArray = Array.isArray(from);
    for (const [key, v] of Object.entries(from)) {
      let out: unknown = v;
      if (!isArray && isSecretKey(key)) out = REDACTED;
      else if (typeof v === 'string') out = redactString(v);
      else if (v !== null && typeof v === 'object') {
        if (depth >= MAX_REDACT_DEPTH) out = TRUNCATED;
        else {
          out = copyOf(v);
          stack.push({ from: v as Container, to: out as Container, depth: depth + 1 });
        }
      }
      // defineProperty: a key named __proto__ stays a plain key of the copy.
      Object.defineProperty(to, key, { value: out, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}
