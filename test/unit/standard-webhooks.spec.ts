import { Webhook } from 'standardwebhooks';
import { checkWebhookHeaders, signWebhook, verifyWebhook } from '../../src/common/standard-webhooks';

const secret = `whsec_${Buffer.from('a-very-secret-webhook-key-0123').toString('base64')}`;
const body = Buffer.from(JSON.stringify({ id: 'p1', status: 'succeeded', extra_field: { nested: true } }));
const now = new Date('2026-01-01T00:00:00Z');
const ts = Math.floor(now.getTime() / 1000);

describe('Standard-Webhooks verification', () => {
  it('accepts a signature made by the reference standardwebhooks library', () => {
    const signature = new Webhook(secret).sign('msg_1', now, body.toString());
    expect(() => verifyWebhook(secret, { id: 'msg_1', timestamp: String(ts), signature }, body, now)).not.toThrow();
    expect(signature).toBe(signWebhook(secret, 'msg_1', ts, body));
  });

  it('accepts any matching v1 signature among several (key rotation)', () => {
    const good = signWebhook(secret, 'msg_2', ts, body);
    const signature = `v1,${Buffer.alloc(32).toString('base64')} v2,abc ${good}`;
    expect(() => verifyWebhook(secret, { id: 'msg_2', timestamp: String(ts), signature }, body, now)).not.toThrow();
  });

  it.each([
    [
      'a changed body',
      (s: string) => ({ id: 'msg_3', timestamp: String(ts), signature: s }),
      Buffer.from(body.toString().replace('succeeded', 'failed')),
    ],
    ['another webhook-id', (s: string) => ({ id: 'msg_other', timestamp: String(ts), signature: s }), body],
    ['a shifted timestamp', (s: string) => ({ id: 'msg_3', timestamp: String(ts + 1), signature: s }), body],
  ])('refuses %s', (_what, headers, payload) => {
    const signature = signWebhook(secret, 'msg_3', ts, body);
    expect(() => verifyWebhook(secret, headers(signature), payload, now)).toThrow(
      expect.objectContaining({ code: 'invalid_signature' }),
    );
  });

  it('allows ±300 s of clock difference and no more', () => {
    for (const [offset, ok] of [
      [-300, true],
      [300, true],
      [-301, false],
      [301, false],
      [-600, false],
    ] as const) {
      const t = ts + offset;
      const h = { id: 'msg_4', timestamp: String(t), signature: signWebhook(secret, 'msg_4', t, body) };
      if (ok) expect(() => verifyWebhook(secret, h, body, now)).not.toThrow();
      else expect(() => verifyWebhook(secret, h, body, now)).toThrow(/window/);
    }
  });

  it('checks the headers before any secret or body: presence, timestamp window, a v1 signature', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const ts = String(now.getTime() / 1000);
    const refused = (headers: Record<string, string>) => {
      expect(() => checkWebhookHeaders(headers, now)).toThrow(expect.objectContaining({ status: 401 }));
    };
    refused({ 'webhook-id': 'x', 'webhook-timestamp': ts });
    refused({ 'webhook-id': 'x', 'webhook-timestamp': 'soon', 'webhook-signature': 'v1,YQ==' });
    refused({ 'webhook-id': 'x', 'webhook-timestamp': String(Number(ts) - 301), 'webhook-signature': 'v1,YQ==' });
    refused({ 'webhook-id': 'x', 'webhook-timestamp': ts, 'webhook-signature': 'v2,YQ==' });
    refused({ 'webhook-id': 'x', 'webhook-timestamp': ts, 'webhook-signature': 'v1,%%%' });
    refused({ 'webhook-id': 'has space', 'webhook-timestamp': ts, 'webhook-signature': 'v1,YQ==' });
    expect(
      checkWebhookHeaders({ 'webhook-id': 'x', 'webhook-timestamp': ts, 'webhook-signature': 'v2,Zg== v1,YQ==' }, now),
    ).toEqual({ id: 'x', timestamp: ts, signature: 'v2,Zg== v1,YQ==' });
  });
});
