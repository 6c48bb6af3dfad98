/**
 * npm run bench:artifacts — copying one large output into the local artifact store, against a raw stream pipe of
 * the same bytes from the same source, measured in the same run.
 *
 *  (http)   `http.get` of the file piped into a file (node:http and fs.createWriteStream, flushed to disk on close
 *           like the store's files);
 *  (undici) the same pipe through undici's `request`, the client the copy uses;
 *  (ours)   the service's whole copy: the copy task claims the job's artifact row, streams the output through undici
 *           into `<data dir>/artifacts/` while hashing it (sha256) and counting it, and records it stored.
 *
 * The source is a plain HTTP server in a child process (the same 1 MiB block over and over), so this process's RSS
 * is the copy's alone: sampled every 10 ms during each copy, the figure is the peak minus the RSS just before it
 * (after a full collection). The app runs on the embedded database (PGlite) in this process. Rounds alternate the
 * order of the variants; a round's ratio is ours against the faster of the two raw pipes on wall time, and the
 * result is the median of the rounds' ratios, printed with the 1-minute load average. Targets: RSS rise < 64 MB,
 * ours ≥ 0.8 × raw.
 *
 *   npm run bench:artifacts -- [MiB=1024] [rounds=3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { ArtifactCopyService } from '../src/artifacts/artifact-copy.service';
import { completedJob } from '../test/support/artifact-fixtures';
import { startFakeReplicate } from '../test/support/fake-replicate';
import { http as api } from '../test/support/http';
import { makeTempDir, startTestApp } from '../test/support/test-app';

const MIB = 1024 * 1024;
const SIZE = Number(process.argv[2] ?? 1024) * MIB;
const ROUNDS = Number(process.argv[3] ?? 3);
const TARGET_RSS_MB = 64;
const TARGET_RATIO = 0.8;

/** The source: `GET /files/<name>?bytes=N` answers N bytes, the same 1 MiB block repeated, with Content-Length. */
const SOURCE = `
const http = require('node:http');
const block = require('node:crypto').randomBytes(${MIB});
http.createServer((req, res) => {
  const size = Number(new URL(req.url, 'http://x').searchParams.get('bytes'));
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      const n = Math.min(block.length, size - sent);
      sent += n;
      if (!res.write(n === block.length ? block : block.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}).listen(0, '127.0.0.1', function () { process.stdout.write('listening ' + this.address().port + '\\n'); });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

function startSource(): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(process.execPath, ['-e', SOURCE], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve({ child, origin: `127.0.0.1:${m[1]}` });
    });
    child.on('exit', () => reject(new Error('the source server exited')));
  });
}

/** Peak RSS while `fn` runs, and its wall time. */
async function measured(fn: () => Promise<void>): Promise<{ seconds: number; rssBefore: number; rssPeak: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 10);
  const started = performance.now();
  await fn();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  return { seconds, rssBefore, rssPeak };
}

function httpPipe(url: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => void pipeline(res, fs.createWriteStream(file, { flush: true })).then(resolve, reject))
      .on('error', reject);
  });
}

async function undiciPipe(url: string, file: string): Promise<void> {
  const res = await request(url);
  await pipeline(res.body, fs.createWriteStream(file, { flush: true }));
}

const mbps = (seconds: number) => SIZE / MIB / seconds;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (n: number, d = 1) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

async function main(): Promise<void> {
  if (!(globalThis as { gc?: unknown }).gc) console.log('(run with --expose-gc for settled RSS baselines)');
  const source = await startSource();
  const fake = await startFakeReplicate();
  const app = await startTestApp({
    db: 'pglite',
    env: {
      REPLICATE_API_BASE: fake.url,
      REPLICATE_API_TOKEN: fake.token,
      SIMPLETUNER_LOG_LEVEL: 'ERROR',
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
      SIMPLETUNER_ARTIFACT_COPY_INTERVAL: '3600',
      SIMPLETUNER_ARTIFACT_SOURCE_HOSTS: source.origin,
    },
  });
  const copies = app.app.get(ArtifactCopyService);
  const rawDir = makeTempDir('st-bench-raw-');
  const url = (name: string, bytes = SIZE) => `http://${source.origin}/files/${name}?bytes=${bytes}`;

  const ours = async (name: string, bytes = SIZE) => {
    const jobId = await completedJob(app, fake, url(name, bytes));
    const m = await measured(async () => {
      await copies.copyDue(new Date());
      await copies.whenIdle();
    });
    const [a] = (await api(app.url, 'GET', `/api/cloud/jobs/${jobId}/artifacts`, { key: app.adminKey })).body;
    if (a.status !== 'stored' || a.size !== bytes) throw new Error(`copy ${name}: ${JSON.stringify(a)}`);
    await api(app.url, 'DELETE', `/api/cloud/jobs/${jobId}`, { key: app.adminKey });
    return m;
  };
  const raw = async (name: string, pipe: (url: string, file: string) => Promise<void>) => {
    const file = path.join(rawDir, name);
    const m = await measured(() => pipe(url(name), file));
    if (fs.statSync(file).size !== SIZE) throw new Error(`raw ${name}: short file`);
    fs.rmSync(file);
    return m;
  };
  const variants: Record<string, (name: string) => ReturnType<typeof measured>> = {
    http: (name) => raw(name, httpPipe),
    undici: (name) => raw(name, undiciPipe),
    ours: (name) => ours(name),
  };

  try {
    await ours('warmup.bin', 8 * MIB);
    console.log(
      `${f(SIZE / MIB, 0)} MiB per copy, ${ROUNDS} rounds; node ${process.version}, ${os.cpus().length} cores`,
    );
    console.log(
      'round | http pipe MB/s | undici pipe MB/s | ours MB/s | ours/raw | RSS rise: ours | http | undici | load 1m',
    );
    const ratios: number[] = [];
    const rises: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? ['http', 'undici', 'ours'] : ['ours', 'undici', 'http'];
      const r: Record<string, Awaited<ReturnType<typeof measured>>> = {};
      for (const v of order) r[v] = await variants[v](`r${i}-${v}.bin`);
      const ratio = Math.min(r.http.seconds, r.undici.seconds) / r.ours.seconds;
      const rise = (m: Awaited<ReturnType<typeof measured>>) => (m.rssPeak - m.rssBefore) / 1e6;
      ratios.push(ratio);
      rises.push(rise(r.ours));
      console.log(
        [
          i + 1,
          f(mbps(r.http.seconds)),
          f(mbps(r.undici.seconds)),
          f(mbps(r.ours.seconds)),
          f(ratio, 2),
          `${f(rise(r.ours))} MB`,
          `${f(rise(r.http))} MB`,
          `${f(rise(r.undici))} MB`,
          f(os.loadavg()[0], 2),
        ].join(' | '),
      );
    }
    const ratio = median(ratios);
    const rise = Math.max(...rises);
    console.log(
      `ours / raw (median of rounds): ${f(ratio, 2)} (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`,
    );
    console.log(
      `RSS rise during a copy (highest round): ${f(rise)} MB (target < ${TARGET_RSS_MB} MB: ${rise < TARGET_RSS_MB ? 'met' : 'NOT met'})`,
    );
    console.log(
      `load average (1, 5, 15 min): ${os
        .loadavg()
        .map((l) => f(l, 2))
        .join(', ')}`,
    );
  } finally {
    await app.stop();
    await fake.stop();
    source.child.stdin!.end();
    fs.rmSync(rawDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
