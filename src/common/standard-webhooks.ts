import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidSignatureError } from './errors';

const WEBHOOK_TOLERANCE_SECONDS = 300;

export interface WebhookHeaders {
  id: string;
  timestamp: string;
  signature: string;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;
const SIGNATURE_PART = /^v1,[A-Za-z0-9+/]+={0,2}$/;

/**
 * Standard Webhooks (https://www.standardwebhooks.com), both directions: the provider's incoming webhooks are
 * verified here and the notification deliveries are signed here, so the two can never drift apart.
 *
 * Everything that can be checked without the secret or the body (Standard Webhooks): the id is present, the
 * timestamp is a number within the tolerance, and at least one `v1,<base64>` signature is given. Runs before the
 * body is read and before any secret is fetched, so junk costs nothing. Throws InvalidSignatureError.
 */
export function checkWebhookHeaders(
  headers: Record<string, string | string[] | undefined>,
  now: Date = new Date(),
): WebhookHeaders {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signature = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signature)
    throw new InvalidSignatureError('Missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!WEBHOOK_ID.test(id)) throw new InvalidSignatureError('Invalid webhook-id');
  if (!/^\d{1,12}$/.test(timestamp)) throw new InvalidSignatureError('Invalid webhook-timestamp');
  const skew = Math.abs(now.getTime() / 1000 - Number(timestamp));
  if (skew > WEBHOOK_TOLERANCE_SECONDS) throw new InvalidSignatureError('Webhook timestamp outside the allowed window');
  if (signature.length > 4096 || !signature.split(' ').some((part) => SIGNATURE_PART.test(part)))
    throw new InvalidSignatureError('webhook-signature has no v1 signature');
  return { id, timestamp, signature };
}

/** The HMAC key: the base64 part after `whsec_`. */
function webhookKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

export function signWebhook(secret: string, id: string, timestamp: number | string, body: Buffer | string): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** A new signing secret in the Standard-Webhooks form: `whsec_` and 24 random bytes, base64. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** The three headers of a signed outgoing delivery (the same scheme verifyWebhook checks on the way in). */
export function signedWebhookHeaders(
  secret: string,
  id: string,
  body: Buffer | string,
  now: Date,
): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, id, timestamp, body),
  };
}

/**
 * Standard-Webhooks verification: HMAC-SHA256 of `id.timestamp.rawBody`, compared in constant time
 * against every `v1,` signature in the header, timestamp within ±300 s. Throws InvalidSignatureError.
 */
export function verifyWebhook(secret: string, h: WebhookHeaders, rawBody: Buffer, now: Date = new Date()): void {
  checkWebhookHeaders({ 'webhook-id': h.id, 'webhook-timestamp': h.timestamp, 'webhook-signature': h.signature }, now);
  const expected = createHmac('sha256', webhookKey(secret)).update(`${h.id}.${h.timestamp}.`).update(rawBody).digest();
  for (const part of h.signature.split(' ')) {
    const [version, sig] = part.split(',', 2);
    if (version !== 'v1' || !sig) continue;
    const given = Buffer.from(sig, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  }
  throw new InvalidSignatureError('Webhook signature does not match');
}
