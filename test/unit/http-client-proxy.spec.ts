import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { configureHttpDefaults, getHttpClient, HttpNetworkError, resetCircuitBreakers } from '../../src/http';

/** SIMPLETUNER_HTTP_CA_FILE and SIMPLETUNER_HTTP_PROXY, against a real TLS server and a real CONNECT proxy. */
describe('outbound HTTP client: CA file and proxy', () => {
  let dir: string;
  let caFile: string;
  let tls: https.Server;
  let tlsUrl: string;
  let proxy: http.Server;
  let proxyUrl: string;
  const connects: string[] = [];

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
    proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, socket: net.Socket, head) => {
      connects.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    resetCircuitBreakers();
    configureHttpDefaults({});
  });
  afterAll(async () => {
    tls.closeAllConnections();
    proxy.closeAllConnections();
    await new Promise((r) => tls.close(r));
    await new Promise((r) => proxy.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a self-signed server without the CA file, as not sent, and trusts it with the CA file', async () => {
    const client = getHttpClient({ name: 'tls-target', baseUrl: tlsUrl, retry: { maxAttempts: 1 } });
    const err = await client.get('/x').catch((e) => e);
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as HttpNetworkError).sent).toBe(false);

    configureHttpDefaults({ caFile });
    const res = await client.get<{ via: string }>('/x');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ via: 'ok' });
  });

  it('goes through SIMPLETUNER_HTTP_PROXY (CONNECT) with the CA file', async () => {
    configureHttpDefaults({ proxy: proxyUrl, caFile, timeoutSeconds: 5 });
    connects.length = 0;
    const res = await getHttpClient({ name: 'proxied', baseUrl: tlsUrl }).get('/y');
    expect(res.status).toBe(200);
    expect(connects).toEqual([new URL(tlsUrl).host]);
  });
});
