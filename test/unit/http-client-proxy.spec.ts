import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { HttpClientFactory, HttpNetworkError } from '../../src/http';
import { ConnectProxy, startConnectProxy } from '../support/connect-proxy';
import { httpClientFactory } from '../support/http-factory';

/** SIMPLETUNER_HTTP_CA_FILE and SIMPLETUNER_HTTP_PROXY, against a real TLS server and a real CONNECT proxy. */
describe('outbound HTTP client: CA file and proxy', () => {
  let dir: string;
  let caFile: string;
  let tls: https.Server;
  let tlsUrl: string;
  let proxy: ConnectProxy;
  const factories: HttpClientFactory[] = [];
  const factory = (env: Record<string, string>) => {
    const f = httpClientFactory(env);
    factories.push(f);
    return f;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-tls-'));
    caFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        caFile,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    tls = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(caFile) }, (req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ via: req.headers['x-correlation-id'] ? 'ok' : 'no-id' })),
    );
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    proxy = await startConnectProxy();
  });
  afterEach(async () => {
    await Promise.all(factories.splice(0).map((f) => f.close()));
  });
  afterAll(async () => {
    tls.closeAllConnections();
    await new Promise((r) => tls.close(r));
    await proxy.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a self-signed server without the CA file, as not sent, and trusts it with the CA file', async () => {
    const client = factory({}).create({ name: 'tls-target', baseUrl: tlsUrl, retry: { maxAttempts: 1 } });
    const err = await client.get('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as HttpNetworkError).sent).toBe(false);

    const trusting = factory({ SIMPLETUNER_HTTP_CA_FILE: caFile }).create({ name: 'tls-target', baseUrl: tlsUrl });
    const res = await trusting.get<{ via: string }>('/x');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ via: 'ok' });
  });

  it('goes through SIMPLETUNER_HTTP_PROXY (CONNECT) with the CA file; a factory without the proxy goes direct', async () => {
    const proxied = factory({ SIMPLETUNER_HTTP_PROXY: proxy.url, SIMPLETUNER_HTTP_CA_FILE: caFile });
    const direct = factory({ SIMPLETUNER_HTTP_CA_FILE: caFile });
    proxy.connects.length = 0;
    const res = await proxied.create({ name: 'proxied', baseUrl: tlsUrl }).get('/y');
    expect(res.status).toBe(200);
    expect(await direct.create({ name: 'direct', baseUrl: tlsUrl }).get('/z')).toMatchObject({ status: 200 });
    expect(proxy.connects).toEqual([new URL(tlsUrl).host]);
  });
});
