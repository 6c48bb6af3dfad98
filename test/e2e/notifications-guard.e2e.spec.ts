import { HttpClientFactory } from '../../src/http';
import { HttpTransport } from '../../src/notifications/http-transport';
import { startConnectProxy } from '../support/connect-proxy';
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

  it("goes through the app's proxy when one is set, checking each name before the call", async () => {
    const proxy = await startConnectProxy();
    const guarded = new HttpTransport(app.app.get(HttpClientFactory), false, { proxy: proxy.url });
    const open = new HttpTransport(app.app.get(HttpClientFactory), true, { proxy: proxy.url });
    try {
      const port = new URL(receiver.url).port;
      // The proxy would resolve the name itself: refused here first, and neither the proxy nor the target hears.
      const refused = await guarded.sendSlack(`https://localhost:${port}/hook`, { text: 'hi' });
      expect(refused).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/loopback/) });
      expect(proxy.connects).toEqual([]);
      expect(receiver.connections).toBe(0);

      // Allowed targets (a private install): the call is tunnelled through the proxy.
      const sent = await open.sendSlack(`${receiver.url}/hook`, { text: 'through the proxy' });
      expect(sent).toMatchObject({ ok: true, statusCode: 200 });
      expect(proxy.connects).toEqual([`127.0.0.1:${port}`]);
      expect(receiver.requests.map((r) => r.json)).toEqual([{ text: 'through the proxy' }]);
    } finally {
      await guarded.close();
      await open.close();
      await proxy.close();
      receiver.reset();
    }
  });
});
