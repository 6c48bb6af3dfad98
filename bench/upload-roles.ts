/**
 * The child processes of bench:upload (forked by bench/upload.ts): `fake`, the fake Replicate; `service`, the whole
 * app as the production build runs it; `relay`, the least any Node relay does (hash, re-encode, send on). None runs
 * from source: bench/upload.ts transpiles this file and the
 * test files it imports into dist/, where `../src/…` is the built app, and runs it with plain node, so neither ts-node
 * nor the TypeScript compiler sits in their memory (the service's RSS is measured) or slows their garbage collector.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Session } from 'node:inspector/promises';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { request } from 'undici';
import { createApp } from '../src/app.factory';
import { loadAppConfig } from '../src/config';
import { fileUploadBody } from '../src/providers/replicate/replicate-files';
import { startFakeReplicate } from '../test/support/fake-replicate';

export type ToFake = { kind: 'last' } | { kind: 'stop' };
/** `collect`: a full garbage collection first (then a quiet second), for the reading after a forced collection. */
export type ToService = { kind: 'sample-start'; collect: boolean } | { kind: 'sample-stop' } | { kind: 'stop' };

/** Quiet time before an upload is measured: the previous one's answer and events are done with. */
const SETTLE_MS = 1000;

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

async function gc(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The fake Replicate: reports the last file it received (size, sha256) and the CPU it used since the last report. */
async function fakeRole(): Promise<void> {
  const fake = await startFakeReplicate();
  let cpu = process.cpuUsage();
  process.on('message', (m: ToFake) => {
    if (m.kind === 'last') {
      const files = [...fake.files.files.values()];
      process.send!({ kind: 'last-file', file: files[files.length - 1] ?? null, cpu: cpuSeconds(cpu) });
      cpu = process.cpuUsage();
      fake.reset();
    } else if (m.kind === 'stop') void fake.stop().then(() => process.exit(0));
  });
  process.send!({ kind: 'fake', url: fake.url, token: fake.token });
}

/**
 * The service: the whole app on PostgreSQL, Replicate at the fake. Measures its own CPU on request (its RSS is read
 * from outside, so that measuring costs it nothing).
 */
async function serviceRole(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-upload-'));
  const config = loadAppConfig(
    {
      DATABASE_URL: process.env.BENCH_DATABASE_URL!,
      SIMPLETUNER_ADMIN_API_KEY: process.env.BENCH_KEY!,
      SIMPLETUNER_DATA_DIR: dataDir,
      SIMPLETUNER_LOG_LEVEL: 'ERROR',
      SIMPLETUNER_ENTERPRISE_CONFIG: '',
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      REPLICATE_API_TOKEN: process.env.BENCH_TOKEN!,
      REPLICATE_API_BASE: process.env.BENCH_FAKE_URL!,
      HOST: '127.0.0.1',
    },
    dataDir,
  );
  const app = await createApp(config, { port: 0 });
  let cpu = process.cpuUsage();
  // BENCH_PROFILE=<dir>: a CPU profile of each upload (the window between sample-start and sample-stop).
  const profiles = process.env.BENCH_PROFILE;
  let profiler: Session | undefined;
  let uploads = 0;
  process.on('message', (m: ToService) => void onMessage(m));
  async function onMessage(m: ToService): Promise<void> {
    if (m.kind === 'sample-start') {
      if (m.collect) await gc();
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      if (profiles) {
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      cpu = process.cpuUsage();
      process.send!({ kind: 'sampling' });
    } else if (m.kind === 'sample-stop') {
      const used = cpuSeconds(cpu);
      if (profiler) {
        const { profile } = await profiler.post('Profiler.stop');
        fs.writeFileSync(path.join(profiles!, `upload-${++uploads}.cpuprofile`), JSON.stringify(profile));
        profiler.disconnect();
      }
      process.send!({ kind: 'sampled', cpu: used });
    } else if (m.kind === 'stop') {
      await app.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    }
  }
  process.send!({ kind: 'service', url: app.url });
}

/**
 * A bare relay, for reference: an HTTP server that hashes the body and sends it on to the fake as multipart with the
 * service's own encoder, through undici, with nothing else (no framework, no database, no checks). Reports its CPU.
 */
async function relayRole(): Promise<void> {
  const [fakeUrl, token] = [process.env.BENCH_FAKE_URL!, process.env.BENCH_TOKEN!];
  const server = http.createServer((req, res) => {
    const cpu = process.cpuUsage();
    const hash = createHash('sha256');
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    req.pipe(meter);
    const size = Number(req.headers['content-length']);
    const { headers, body } = fileUploadBody(meter, 'bench.zip', 'application/zip', size);
    request(`${fakeUrl}/files`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}` }, body })
      .then(async (answer) => {
        await answer.body.text();
        const reply = JSON.stringify({ sha256: hash.digest('hex'), size, cpu: cpuSeconds(cpu) });
        res.writeHead(answer.statusCode, { 'content-type': 'application/json' }).end(reply);
      })
      .catch((err: unknown) => res.writeHead(502).end(String(err)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'stop') server.close(() => process.exit(0));
  });
  process.send!({ kind: 'relay', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

const role = process.argv[2];
const run = role === 'fake' ? fakeRole : role === 'service' ? serviceRole : role === 'relay' ? relayRole : null;
if (!run) throw new Error(`unknown role ${role}`);
run().catch((err: unknown) => {
  process.send!({ kind: 'failed', error: String((err as Error)?.stack ?? err) });
  process.exit(1);
});
