/**
 * npm run bench:upload — a dataset upload through the service, against piping the same bytes straight to the files
 * API.
 *
 * Three processes: this one (the client and the orchestrator), the service (the whole app as built by `nest build`,
 * on the local PostgreSQL, REPLICATE_API_BASE pointing at the fake) and the fake Replicate, each with its own event
 * loop; the two children run compiled JavaScript (bench/upload-roles.ts), as in production. Every round sends
 * BENCH_UPLOAD_MIB (100) MiB of the same bytes twice, in alternating order:
 *   (a) baseline: multipart/form-data straight to the fake's `POST /v1/files` (the encoder the service uses);
 *   (b) the service: the raw archive to `POST /api/cloud/uploads`, which streams it on to the fake.
 * Both are timed from the first byte sent to the last byte of the answer; the fake's sha256 and size of what it
 * received are checked against what was sent. The service's RSS rise during (b) is its peak (the kernel's high-water
 * mark, VmHWM, reset just before through /proc/<pid>/clear_refs: Linux) over its RSS just before, taken after a
 * warm-up upload and a GC; nothing samples inside the service. Prints each round, the medians, the ratio of
 * throughputs (b)/(a) (the median of each round's own ratio), the CPU seconds each side used, and the load average.
 * Targets: RSS rise < 32 MB, throughput ratio ≥ 0.8. `npm run bench:upload -- --no-build` uses dist/ as it is.
 * Env: BENCH_UPLOAD_MIB (100), BENCH_ROUNDS (5), TEST_DATABASE_URL, BENCH_PROFILE (a folder: the service writes a
 * CPU profile of each upload there, for bench/cpuprofile-top.ts), BENCH_TRACE_GC (the service's --trace-gc).
 */
import { ChildProcess, fork, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import * as ts from 'typescript';
import { generateApiKey } from '../src/auth/api-key.util';
import { fileUploadBody } from '../src/providers/replicate/replicate-files';
import { databaseUrl, withAdminClient } from '../test/support/test-database';
import { nextMessage } from './child-ipc';
import type { ToFake, ToService } from './upload-roles';

const MIB = 1024 * 1024;
const UPLOAD_MIB = Number(process.env.BENCH_UPLOAD_MIB ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RSS_TARGET_MB = 32;
const RATIO_TARGET = 0.8;
const DB_NAME = 'test_bench_upload';
const CHUNK = 64 * 1024;
const ROOT = path.join(__dirname, '..');
/** The children's files, transpiled beside the build (their `../src/…` is the built app). */
const CHILD_FILES = ['bench/upload-roles', 'test/support/fake-replicate', 'test/support/fake-replicate-files'];

const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

// ---------------------------------------------------------------------------------------------------------------
// Orchestrator (the client)
// ---------------------------------------------------------------------------------------------------------------

/** The service's resident set now and at its peak since the last reset, in bytes (Linux /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Resets the service's RSS high-water mark to its RSS now. */
function resetPeak(pid: number): void {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

function build(): void {
  const nest = require.resolve('@nestjs/cli/bin/nest.js');
  const r = spawnSync(process.execPath, [nest, 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nest build failed:\n${r.stdout}\n${r.stderr}`);
}

/** Transpiles the children's files into dist/ and returns the roles' script. */
function buildChildren(): string {
  for (const name of CHILD_FILES) {
    const source = fs.readFileSync(path.join(ROOT, `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: `${name}.ts`,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
    });
    const out = path.join(ROOT, 'dist', `${name}.js`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, outputText);
  }
  return path.join(ROOT, 'dist', 'bench', 'upload-roles.js');
}

function spawnRole(script: string, role: string, env: Record<string, string> = {}): ChildProcess {
  const profile = role === 'service' && process.env.BENCH_TRACE_GC ? ['--trace-gc'] : [];
  return fork(script, [role], {
    cwd: ROOT,
    execArgv: profile,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The upload's bytes: one random MiB, `mib` times, as 64 KiB views (nothing the size of the upload exists). */
function bytes(block: Buffer, mib: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < mib; i++)
        for (let at = 0; at < block.length; at += CHUNK) yield block.subarray(at, at + CHUNK);
    })(),
    { objectMode: false },
  );
}

/** POSTs the body with back-pressure; resolves with the seconds from the first byte to the answer's end. */
function post(
  url: string,
  headers: Record<string, string>,
  body: Readable,
): Promise<{ seconds: number; status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ seconds: (performance.now() - started) / 1000, status: res.statusCode!, text }));
    });
    req.on('error', reject);
    body.on('error', reject);
    body.pipe(req);
  });
}

interface Round {
  baseline: number;
  service: number;
  /** CPU seconds the fake used for the baseline upload, and the service and the fake for the service's. */
  fakeCpuA: number;
  serviceCpu: number;
  fakeCpuB: number;
  rssRiseMb: number;
  rss0Mb: number;
}

async function runRound(
  order: ('a' | 'b')[],
  ctx: { fake: ChildProcess; service: ChildProcess; fakeUrl: string; token: string; serviceUrl: string; key: string },
  block: Buffer,
  expected: { size: number; sha256: string },
): Promise<Round> {
  const round: Partial<Round> = {};
  const check = async (what: string): Promise<number> => {
    ctx.fake.send({ kind: 'last' } satisfies ToFake);
    const { file, cpu } = await nextMessage<{ file: { size: number; sha256: string } | null; cpu: number }>(
      ctx.fake,
      'last-file',
    );
    if (!file || file.size !== expected.size || file.sha256 !== expected.sha256) {
      throw new Error(`${what}: the fake received ${JSON.stringify(file)}, expected ${JSON.stringify(expected)}`);
    }
    return cpu;
  };
  for (const which of order) {
    if (which === 'a') {
      const { headers, body } = fileUploadBody(bytes(block, UPLOAD_MIB), 'bench.zip', 'application/zip', expected.size);
      const res = await post(`${ctx.fakeUrl}/files`, { ...headers, authorization: `Bearer ${ctx.token}` }, body);
      if (res.status !== 201) throw new Error(`baseline: ${res.status} ${res.text.slice(0, 200)}`);
      round.fakeCpuA = await check('baseline');
      round.baseline = res.seconds;
    } else {
      ctx.service.send({ kind: 'sample-start' } satisfies ToService);
      await nextMessage(ctx.service, 'sampling');
      resetPeak(ctx.service.pid!);
      const rss0 = memory(ctx.service.pid!).rss;
      const res = await post(
        `${ctx.serviceUrl}/api/cloud/uploads?filename=bench.zip`,
        { 'x-api-key': ctx.key, 'content-type': 'application/zip', 'content-length': String(expected.size) },
        bytes(block, UPLOAD_MIB),
      );
      ctx.service.send({ kind: 'sample-stop' } satisfies ToService);
      const { peak } = memory(ctx.service.pid!);
      const { cpu } = await nextMessage<{ cpu: number }>(ctx.service, 'sampled');
      if (res.status !== 201) throw new Error(`service: ${res.status} ${res.text.slice(0, 200)}`);
      const answer = JSON.parse(res.text) as { sha256: string; size: number };
      if (answer.sha256 !== expected.sha256 || answer.size !== expected.size) throw new Error('service: wrong sha256');
      round.fakeCpuB = await check('service');
      round.serviceCpu = cpu;
      round.service = res.seconds;
      round.rssRiseMb = (peak - rss0) / 1e6;
      round.rss0Mb = rss0 / 1e6;
    }
  }
  return round as Round;
}

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build')) build();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'app.factory.js'))) throw new Error('dist/ has no build');
  const script = buildChildren();
  const admin = (sql: string) => withAdminClient(async (c) => void (await c.query(sql)));
  const key = generateApiKey();
  await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${DB_NAME}`);
  const fake = spawnRole(script, 'fake');
  let service: ChildProcess | undefined;
  try {
    const { url: fakeUrl, token } = await nextMessage<{ url: string; token: string }>(fake, 'fake');
    service = spawnRole(script, 'service', {
      BENCH_KEY: key,
      BENCH_TOKEN: token,
      BENCH_FAKE_URL: fakeUrl,
      BENCH_DATABASE_URL: databaseUrl(DB_NAME),
    });
    const { url: serviceUrl } = await nextMessage<{ url: string }>(service, 'service');
    const block = randomBytes(MIB);
    const hash = createHash('sha256');
    for (let i = 0; i < UPLOAD_MIB; i++) hash.update(block);
    const expected = { size: UPLOAD_MIB * MIB, sha256: hash.digest('hex') };
    const ctx = { fake, service, fakeUrl, token, serviceUrl, key };
    console.log(
      `bench:upload — ${UPLOAD_MIB} MiB, ${ROUNDS} rounds (+1 warm-up), PostgreSQL ${DB_NAME}; ` +
        `${os.cpus().length} CPUs, load ${load()}`,
    );
    await runRound(['a', 'b'], ctx, block, expected);
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await runRound(i % 2 === 0 ? ['a', 'b'] : ['b', 'a'], ctx, block, expected);
      rounds.push(r);
      console.log(
        `round ${i + 1}: (a) straight to the fake ${fmt(UPLOAD_MIB / r.baseline)} MiB/s (${fmt(r.baseline, 2)} s)   ` +
          `(b) through the service ${fmt(UPLOAD_MIB / r.service)} MiB/s (${fmt(r.service, 2)} s)   ` +
          `b/a ${fmt(r.baseline / r.service, 2)}   service RSS +${fmt(r.rssRiseMb)} MB (from ${fmt(r.rss0Mb)} MB)   ` +
          `CPU s: fake ${fmt(r.fakeCpuA, 2)} | service ${fmt(r.serviceCpu, 2)} + fake ${fmt(r.fakeCpuB, 2)}   load ${load()}`,
      );
    }
    const ratio = median(rounds.map((r) => r.baseline / r.service));
    const rise = median(rounds.map((r) => r.rssRiseMb));
    const worstRise = Math.max(...rounds.map((r) => r.rssRiseMb));
    console.log(
      `median: (a) ${fmt(UPLOAD_MIB / median(rounds.map((r) => r.baseline)))} MiB/s, ` +
        `(b) ${fmt(UPLOAD_MIB / median(rounds.map((r) => r.service)))} MiB/s`,
    );
    console.log(
      `median CPU seconds per upload: the fake ${fmt(median(rounds.map((r) => r.fakeCpuA)), 2)} (a), ` +
        `the service ${fmt(median(rounds.map((r) => r.serviceCpu)), 2)} (b)`,
    );
    console.log('targets:');
    console.log(
      `  service RSS rise < ${RSS_TARGET_MB} MB: median ${fmt(rise)} MB, worst ${fmt(worstRise)} MB → ` +
        `${worstRise < RSS_TARGET_MB ? 'OK' : 'MISSED'}`,
    );
    console.log(
      `  throughput through the service ≥ ${RATIO_TARGET}× straight: ${fmt(ratio, 2)}× → ` +
        `${ratio >= RATIO_TARGET ? 'OK' : 'MISSED'}`,
    );
    console.log(`load average (1, 5, 15 min) at the end: ${load()}`);
  } finally {
    if (service) {
      service.send({ kind: 'stop' } satisfies ToService);
      await nextMessage(service, 'never', 15_000).catch(() => undefined);
    }
    fake.send({ kind: 'stop' } satisfies ToFake);
    await nextMessage(fake, 'never', 5000).catch(() => undefined);
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
