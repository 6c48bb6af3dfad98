import { HttpClientFactory } from '../../src/http';
import { HttpTransport } from '../../src/notifications/http-transport';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * The outbound address rule with its default (private targets not allowed): loopback, private, link-local and
 * metadata targets are refused at creation with a 400 naming config.url, and a name that resolves to loopback is
 * refused again at connect time; the receiver never sees a connection.
 */
describe('notification target guard (PostgreSQL)', () => {
  let app: TestApp;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    await receiver.start();
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600', SIMPLETUNER_JOB_POLL_INTERVAL: '3600' } });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver.stop();
  });

  it('refuses private, loopback, link-local and metadata targets and plain http at creation, connecting to nothing', async () => {
    const port = new URL(receiver.url).port;
    for (const url of [
      `https://127.0.0.1:${port}/hook`,
      `https://localhost:${port}/hook`,
      `https://[::1]:${port}/hook`,
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://169.254.169.254/latest/meta-data',
      `http://127.0.0.1:${port}/hook`,
      'http://example.com/hook',
    ]) {
      for (const kind of ['webhook', 'slack']) {
        const res = await http(app.url, 'POST', '/api/notifications/channels', {
          key: app.adminKey,
          body: { kind, name: 'private', config: { url }, events: ['job.completed'] },
        });
        expect([url, kind, res.status, res.body.details]).toEqual([
          url,
          kind,
          400,
          { 'config.url': expect.any(String) },
        ]);
        expect(res.body.message).toMatch(/^config\.url /);
      }
    }
    expect(receiver.connections).toBe(0);
  });

  it('checks the address again at connect time: a name resolving to loopback is refused before connecting', async () => {
    const transport = new HttpTransport(app.app.get(HttpClientFactory), false);
    try {
      const port = new URL(receiver.url).port;
      const result = await transport.sendSlack(`https://localhost:${port}/hook`, { text: 'hi' });
      expect(result).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/blocked address/) });
      const literal = await transport.sendSlack(`https://127.0.0.1:${port}/hook`, { text: 'hi' });
      expect(literal).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/blocked/) });
    } finally {
      await transport.close();
    }
    expect(receiver.connections).toBe(0);
  });
});
