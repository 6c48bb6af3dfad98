/**
 * npm run bench:upload — a dataset upload through the service, against piping the same bytes straight to the files
 * API.
 *
 * Four processes: this one (the client and the orchestrator), the service (the whole app as built by `nest build`,
 * on the local PostgreSQL, REPLICATE_API_BASE pointing at the fake), the fake Replicate and a bare relay, each with
 * its own event loop; the children run compiled JavaScript (bench/upload-roles.ts), as in production. Every round
 * sends BENCH_UPLOAD_MIB (100) MiB of the same bytes three times, in an order that rotates from round to round:
 *   (a) baseline: multipart/form-data straight to the fake's `POST /v1/files` (the encoder the service uses);
 *   (b) the service: the raw archive to `POST /api/cloud/uploads`, which streams it on to the fake;
 *   (c) for reference, a bare relay (bench/upload-roles.ts): what any Node process that hashes the bytes and sends
 *       them on costs, without the service around it.
 * Both are timed from the first byte sent to the last byte of the answer; the fake's sha256 and size of what it
 * received are checked against what was sent. The service's RSS rise during (b) is its peak (the kernel's high-water
 * mark, VmHWM, reset just before through /proc/<pid>/clear_refs: Linux) over the RSS it sat at a second before the
 * upload (after the warm-up upload; nothing samples inside the service). A last upload (b) follows a forced full
 * collection: printed for comparison, not a target (the collection shrinks the heap, which the upload then regrows,
 * as no running service does between uploads). Prints each round, the medians, the ratio of throughputs (b)/(a)
 * (the median of each round's own ratio), the same against the bare relay, the CPU seconds each process used, and
 * the load average.
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

interface Context {
  fake: ChildProcess;
  service: ChildProcess;
  relayUrl: string;
  fakeUrl: string;
  token: string;
  serviceUrl: string;
  key: string;
  block: Buffer;
  expected: { size: number; sha256: string };
}

interface ServiceUpload {
  seconds: number;
  /** CPU seconds of the service, and of the fake for the same upload. */
  cpu: number;
  fakeCpu: number;
  rssRiseMb: number;
  rss0Mb: number;
}

interface Round extends ServiceUpload {
  baseline: number;
  /** CPU seconds the fake used for the baseline upload. */
  baselineFakeCpu: number;
  relay: number;
  relayCpu: number;
}

/** The last file the fake received must be the upload, byte for byte; returns the CPU it used since last asked. */
async function fakeReceived(ctx: Context, what: string): Promise<number> {
  ctx.fake.send({ kind: 'last' } satisfies ToFake);
  const { file, cpu } = await nextMessage<{ file: { size: number; sha256: string } | null; cpu: number }>(
    ctx.fake,
    'last-file',
  );
  if (!file || file.size !== ctx.expected.size || file.sha256 !== ctx.expected.sha256) {
    throw new Error(`${what}: the fake received ${JSON.stringify(file)}, expected ${JSON.stringify(ctx.expected)}`);
  }
  return cpu;
}

/** (a): multipart straight to the fake. */
async function baselineUpload(ctx: Context): Promise<{ seconds: number; fakeCpu: number }> {
  const { block, expected } = ctx;
  const { headers, body } = fileUploadBody(bytes(block, UPLOAD_MIB), 'bench.zip', 'application/zip', expected.size);
  const res = await post(`${ctx.fakeUrl}/files`, { ...headers, authorization: `Bearer ${ctx.token}` }, body);
  if (res.status !== 201) throw new Error(`baseline: ${res.status} ${res.text.slice(0, 200)}`);
  return { seconds: res.seconds, fakeCpu: await fakeReceived(ctx, 'baseline') };
}

/** (b): the raw archive through the service; `collect`: after a forced full collection. */
async function serviceUpload(ctx: Context, collect = false): Promise<ServiceUpload> {
  const pid = ctx.service.pid!;
  ctx.service.send({ kind: 'sample-start', collect } satisfies ToService);
  await nextMessage(ctx.service, 'sampling');
  resetPeak(pid);
  const rss0 = memory(pid).rss;
  const res = await post(
    `${ctx.serviceUrl}/api/cloud/uploads?filename=bench.zip`,
    { 'x-api-key': ctx.key, 'content-type': 'application/zip', 'content-length': String(ctx.expected.size) },
    bytes(ctx.block, UPLOAD_MIB),
  );
  ctx.service.send({ kind: 'sample-stop' } satisfies ToService);
  const { peak } = memory(pid);
  const { cpu } = await nextMessage<{ cpu: number }>(ctx.service, 'sampled');
  if (res.status !== 201) throw new Error(`service: ${res.status} ${res.text.slice(0, 200)}`);
  const answer = JSON.parse(res.text) as { sha256: string; size: number };
  if (answer.sha256 !== ctx.expected.sha256 || answer.size !== ctx.expected.size) throw new Error('service: sha256');
  const fakeCpu = await fakeReceived(ctx, 'service');
  return { seconds: res.seconds, cpu, fakeCpu, rssRiseMb: (peak - rss0) / 1e6, rss0Mb: rss0 / 1e6 };
}

/** (c): the raw archive through the bare relay. */
async function relayUpload(ctx: Context): Promise<{ seconds: number; cpu: number }> {
  const res = await post(
    ctx.relayUrl,
    { 'content-type': 'application/zip', 'content-length': String(ctx.expected.size) },
    bytes(ctx.block, UPLOAD_MIB),
  );
  if (res.status !== 201) throw new Error(`relay: ${res.status} ${res.text.slice(0, 200)}`);
  const answer = JSON.parse(res.text) as { sha256: string; cpu: number };
  if (answer.sha256 !== ctx.expected.sha256) throw new Error('relay: sha256');
  await fakeReceived(ctx, 'relay');
  return { seconds: res.seconds, cpu: answer.cpu };
}

/** The three uploads, in an order that changes from round to round. */
async function runRound(ctx: Context, round: number): Promise<Round> {
  let a: { seconds: number; fakeCpu: number } | undefined;
  let b: ServiceUpload | undefined;
  let c: { seconds: number; cpu: number } | undefined;
  const orders = [
    ['a', 'b', 'c'],
    ['b', 'c', 'a'],
    ['c', 'a', 'b'],
  ];
  for (const which of orders[round % orders.length]) {
    if (which === 'a') a = await baselineUpload(ctx);
    else if (which === 'b') b = await serviceUpload(ctx);
    else c = await relayUpload(ctx);
  }
  return { ...b!, baseline: a!.seconds, baselineFakeCpu: a!.fakeCpu, relay: c!.seconds, relayCpu: c!.cpu };
}

function report(rounds: Round[], collected: ServiceUpload): void {
  const ratio = median(rounds.map((r) => r.baseline / r.seconds));
  console.log(
    `(c) the bare relay: median ${fmt(UPLOAD_MIB / median(rounds.map((r) => r.relay)))} MiB/s, ` +
      `${fmt(median(rounds.map((r) => r.relayCpu)), 2)} CPU seconds an upload; b/c ` +
      `${fmt(median(rounds.map((r) => r.relay / r.seconds)), 2)}, c/a ${fmt(median(rounds.map((r) => r.baseline / r.relay)), 2)}`,
  );
  const rise = median(rounds.map((r) => r.rssRiseMb));
  const worstRise = Math.max(...rounds.map((r) => r.rssRiseMb));
  console.log(
    `median: (a) ${fmt(UPLOAD_MIB / median(rounds.map((r) => r.baseline)))} MiB/s, ` +
      `(b) ${fmt(UPLOAD_MIB / median(rounds.map((r) => r.seconds)))} MiB/s; CPU seconds an upload: ` +
      `the fake ${fmt(median(rounds.map((r) => r.baselineFakeCpu)), 2)} in (a), ` +
      `the service ${fmt(median(rounds.map((r) => r.cpu)), 2)} in (b)`,
  );
  console.log(
    `(b) right after a forced full collection: ${fmt(UPLOAD_MIB / collected.seconds)} MiB/s, service RSS ` +
      `+${fmt(collected.rssRiseMb)} MB (from ${fmt(collected.rss0Mb)} MB), CPU ${fmt(collected.cpu, 2)} s ` +
      `(the upload regrows the heap the collection shrank)`,
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
  let relay: ChildProcess | undefined;
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
    relay = spawnRole(script, 'relay', { BENCH_TOKEN: token, BENCH_FAKE_URL: fakeUrl });
    const { url: relayUrl } = await nextMessage<{ url: string }>(relay, 'relay');
    const ctx: Context = { fake, service, relayUrl, fakeUrl, token, serviceUrl, key, block, expected };
    console.log(
      `bench:upload — ${UPLOAD_MIB} MiB, ${ROUNDS} rounds (+1 warm-up), PostgreSQL ${DB_NAME}; ` +
        `${os.cpus().length} CPUs, load ${load()}`,
    );
    await runRound(ctx, 0);
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await runRound(ctx, i);
      rounds.push(r);
      console.log(
        `round ${i + 1}: (a) straight to the fake ${fmt(UPLOAD_MIB / r.baseline)} MiB/s (${fmt(r.baseline, 2)} s)   ` +
          `(b) through the service ${fmt(UPLOAD_MIB / r.seconds)} MiB/s (${fmt(r.seconds, 2)} s)   ` +
          `b/a ${fmt(r.baseline / r.seconds, 2)}   service RSS +${fmt(r.rssRiseMb)} MB (from ${fmt(r.rss0Mb)} MB)   ` +
          `CPU s: fake ${fmt(r.baselineFakeCpu, 2)} | service ${fmt(r.cpu, 2)} + fake ${fmt(r.fakeCpu, 2)}   ` +
          `(c) relay ${fmt(UPLOAD_MIB / r.relay)} MiB/s   ` +
          `load ${load()}`,
      );
    }
    report(rounds, await serviceUpload(ctx, true));
  } finally {
    if (service) {
      service.send({ kind: 'stop' } satisfies ToService);
      await nextMessage(service, 'never', 15_000).catch(() => undefined);
    }
    relay?.send({ kind: 'stop' });
    fake.send({ kind: 'stop' } satisfies ToFake);
    await nextMessage(fake, 'never', 5000).catch(() => undefined);
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
