/**
 * npm run bench:logging — lines per second written to a file:
 *  (a) bare pino `logger.info(msg)` (pino's defaults: level, time, pid, hostname, msg);
 *  (b) our JSON line with a two-field LogContext and one extra field, without `source`;
 *  (c) the same with `source` (call site compiled in by tools/log-callsite-transformer.js);
 *  (d) our text format.
 * Also, for reference, (c') `source` by a run-time stack capture, which is what the transformer avoids.
 * Every variant writes through an async sonic-boom (minLength 0) to its own file; stdout is left out so that each
 * writes one file like (a). A round lasts until the file is written. The figures are per CPU-second of the
 * process (process.cpuUsage: user + system, all threads, so the file writes count): this machine is shared, and
 * wall time mostly measures the neighbours. Wall-clock figures are printed beside them.
 * Targets: per line, b ≤ 2 × a and c ≤ 2.5 × a.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import {
  configureStructuredLogging,
  flushLogs,
  getLogger,
  LogContext,
  runWithCorrelationId,
  StructuredLoggingOptions,
} from '../src/logging';

const LINES = Number(process.argv[2] ?? 50_000);
const ROUNDS = Number(process.argv[3] ?? 3);

interface Cost {
  cpu: number;
  wall: number;
}

function measure(): () => Cost {
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  return () => {
    const cpu = process.cpuUsage(cpu0);
    return { cpu: (cpu.user + cpu.system) * 1000, wall: Number(process.hrtime.bigint() - wall0) };
  };
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-log-'));
const MESSAGE = 'Job submitted successfully';
const log = getLogger('simpletuner.cloud.jobs');

async function barePino(file: string): Promise<Cost> {
  const dest = pino.destination({ dest: file, sync: false, minLength: 0 });
  await new Promise((r) => dest.once('ready', r));
  const logger = pino(dest);
  const done = measure();
  for (let i = 0; i < LINES; i++) logger.info(MESSAGE);
  await new Promise<void>((resolve) => {
    const s = dest as unknown as { _writing: boolean; _len: number };
    const check = () => (!s._writing && s._len === 0 ? resolve() : dest.once('drain', check));
    check();
  });
  const cost = done();
  dest.end();
  return cost;
}

async function ours(file: string, opts: StructuredLoggingOptions, runtimeSource = false): Promise<Cost> {
  configureStructuredLogging({ level: 'INFO', logFile: file, stdout: false, ...opts });
  await flushLogs(); // the file is open
  // Element access is not rewritten by the transformer: the run-time stack capture path.
  const info = runtimeSource ? (m: string, e: Record<string, unknown>) => log['info'](m, e) : undefined;
  return runWithCorrelationId('abc123def456', () =>
    LogContext.run({ job_id: 'xyz789', provider: 'replicate' }, async () => {
      const done = measure();
      if (info) for (let i = 0; i < LINES; i++) info(MESSAGE, { cost_estimate: 2.5 });
      else for (let i = 0; i < LINES; i++) log.info(MESSAGE, { cost_estimate: 2.5 });
      await flushLogs();
      return done();
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const variants: Array<[string, (f: string) => Promise<Cost>]> = [
    ['a', (f) => barePino(f)],
    ['b', (f) => ours(f, { jsonOutput: true, includeSource: false })],
    ['c', (f) => ours(f, { jsonOutput: true, includeSource: true })],
    ['d', (f) => ours(f, { jsonOutput: false })],
    ["c'", (f) => ours(f, { jsonOutput: true, includeSource: true }, true)],
  ];
  const times: Record<string, number[]> = {};
  const walls: Record<string, number[]> = {};
  // Warm-up round, then interleaved rounds so machine noise hits every variant alike.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, run] of variants) {
      const file = path.join(dir, `${name.replace("'", 'p')}-${round}.log`);
      const cost = await run(file);
      if (round > 0) {
        (times[name] ??= []).push(cost.cpu / LINES);
        (walls[name] ??= []).push(cost.wall / LINES);
      }
      fs.rmSync(file, { force: true });
    }
  }
  configureStructuredLogging({ level: 'INFO', logFile: null });
  const per = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  const wall = Object.fromEntries(Object.entries(walls).map(([k, v]) => [k, median(v)]));
  const labels: Record<string, string> = {
    a: '(a) bare pino logger.info(msg)',
    b: '(b) our JSON line, LogContext(2) + 1 extra, no source',
    c: '(c) our JSON line with source (compile-time)',
    d: '(d) our text line',
    "c'": "(c') JSON line, source by run-time stack capture",
  };
  console.log(`logging bench: ${LINES} lines per run, median of ${ROUNDS} rounds, node ${process.version}`);
  console.log(
    `${''.padEnd(52)} ${'lines/CPU-s'.padStart(11)} ${'CPU µs/line'.padStart(12)} ${'wall lines/s'.padStart(13)}`,
  );
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  for (const k of Object.keys(labels)) {
    console.log(
      `${labels[k].padEnd(52)} ${fmt(1e9 / per[k]).padStart(11)} ${(per[k] / 1000).toFixed(2).padStart(12)} ${fmt(1e9 / wall[k]).padStart(13)}`,
    );
  }
  const ba = per.b / per.a;
  const ca = per.c / per.a;
  console.log(`ratio b/a (CPU time per line) = ${ba.toFixed(2)}  (target ≤ 2.00) ${ba <= 2 ? 'OK' : 'MISSED'}`);
  console.log(`ratio c/a (CPU time per line) = ${ca.toFixed(2)}  (target ≤ 2.50) ${ca <= 2.5 ? 'OK' : 'MISSED'}`);
  console.log(`ratio d/a = ${(per.d / per.a).toFixed(2)}, c'/a = ${(per["c'"] / per.a).toFixed(2)} (for reference)`);
  console.log(`wall-clock ratios: b/a = ${(wall.b / wall.a).toFixed(2)}, c/a = ${(wall.c / wall.a).toFixed(2)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = ba <= 2 && ca <= 2.5 ? 0 : 1;
}

void main();
