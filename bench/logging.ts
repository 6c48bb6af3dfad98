/**
 * npm run bench:logging — lines per second written to a file:
 *  (a) bare pino `logger.info(msg)` (pino's defaults: level, time, pid, hostname, msg);
 *  (b) our JSON line with a two-field LogContext and one extra field, without `source`;
 *  (c) the same with `source` (call site compiled in by tools/log-callsite-transformer.js);
 *  (d) our text format.
 * Also, for reference: (c') `source` by a run-time stack capture, which is what the transformer avoids; (e) pino's
 * own line (as in a) written through our file sink, which tells the sink's share from the formatting's (b − e).
 * Every variant writes through an async sonic-boom (minLength 0) to its own file; stdout is left out so that each
 * writes one file like (a). A round lasts until the file is written. The figures are per CPU-second of the
 * process (process.cpuUsage: user + system, all threads, so the file writes count): this machine is shared, and
 * wall time mostly measures the neighbours. Wall-clock figures are printed beside them, and each figure with the
 * 1-minute load average taken after its runs (median over the rounds). A ratio is the median over the rounds of
 * that round's own ratio (its runs are seconds apart, so a change of load between rounds does not enter it).
 * Targets: per line, b ≤ 1.5 × a and c ≤ 1.5 × a.
 *
 *   npm run bench:logging -- [lines=50000] [rounds=7] [variants=a,b,c,d,c',e]
 * Profile one variant: node --cpu-prof -r ./tools/ts-register.js bench/logging.ts 200000 3 b, then
 * bench/cpuprofile-top.ts on the .cpuprofile it writes.
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
import { writeLine } from '../src/logging/sinks';

const LINES = Number(process.argv[2] ?? 50_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const ONLY = process.argv[4]?.split(',');
const TARGET_B = 1.5;
const TARGET_C = 1.5;

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

/** pino's own line (defaults as in a) through our file sink. */
async function pinoThroughOurSink(file: string): Promise<Cost> {
  configureStructuredLogging({ level: 'INFO', logFile: file, stdout: false });
  await flushLogs();
  const logger = pino({}, { write: writeLine });
  const done = measure();
  for (let i = 0; i < LINES; i++) logger.info(MESSAGE);
  await flushLogs();
  return done();
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

const VARIANTS: Array<[string, string, (f: string) => Promise<Cost>]> = [
  ['a', '(a) bare pino logger.info(msg)', (f) => barePino(f)],
  ['b', '(b) our JSON line, LogContext(2) + 1 extra, no source', (f) => ours(f, { includeSource: false })],
  ['c', '(c) our JSON line with source (compile-time)', (f) => ours(f, { includeSource: true })],
  ['d', '(d) our text line', (f) => ours(f, { jsonOutput: false })],
  ["c'", "(c') JSON line, source by run-time stack capture", (f) => ours(f, {}, true)],
  ['e', "(e) pino's line (as a) through our file sink", (f) => pinoThroughOurSink(f)],
];

interface Rounds {
  cpu: number[];
  wall: number[];
  load: number[];
}

async function runRounds(variants: typeof VARIANTS): Promise<Record<string, Rounds>> {
  const out: Record<string, Rounds> = {};
  // Warm-up round, then interleaved rounds so machine noise hits every variant alike.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, , run] of variants) {
      const file = path.join(dir, `${name.replace("'", 'p')}-${round}.log`);
      const cost = await run(file);
      if (round > 0) {
        const r = (out[name] ??= { cpu: [], wall: [], load: [] });
        r.cpu.push(cost.cpu / LINES);
        r.wall.push(cost.wall / LINES);
        r.load.push(os.loadavg()[0]);
      }
      fs.rmSync(file, { force: true });
    }
  }
  configureStructuredLogging({ level: 'INFO', logFile: null });
  return out;
}

/** Median over the rounds of x's CPU time per line over a's in the same round. */
function pairedRatio(r: Record<string, Rounds>, x: string, metric: 'cpu' | 'wall' = 'cpu'): number {
  return median(r[x][metric].map((v, i) => v / r.a[metric][i]));
}

function report(r: Record<string, Rounds>): boolean {
  const load = (xs: number[]) => median(xs).toFixed(2);
  console.log(`logging bench: ${LINES} lines per run, median of ${ROUNDS} rounds, node ${process.version}`);
  console.log(
    `${''.padEnd(52)} ${'lines/CPU-s'.padStart(11)} ${'CPU µs/line'.padStart(12)} ${'wall lines/s'.padStart(13)} ${'load'.padStart(6)}`,
  );
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  for (const [k, label] of VARIANTS) {
    if (!r[k]) continue;
    const cpu = median(r[k].cpu);
    console.log(
      `${label.padEnd(52)} ${fmt(1e9 / cpu).padStart(11)} ${(cpu / 1000).toFixed(2).padStart(12)} ${fmt(1e9 / median(r[k].wall)).padStart(13)} ${load(r[k].load).padStart(6)}`,
    );
  }
  if (!r.a) return true;
  let met = true;
  for (const [k, target] of [
    ['b', TARGET_B],
    ['c', TARGET_C],
  ] as const) {
    if (!r[k]) continue;
    const ratio = pairedRatio(r, k);
    met &&= ratio <= target;
    const perRound = r[k].cpu.map((v, i) => (v / r.a.cpu[i]).toFixed(2)).join(' ');
    console.log(
      `ratio ${k}/a (CPU time per line) = ${ratio.toFixed(2)}  (target ≤ ${target.toFixed(2)}) ${ratio <= target ? 'OK' : 'MISSED'}  load ${load([...r.a.load, ...r[k].load])}  rounds: ${perRound}`,
    );
  }
  const refs = ['d', "c'", 'e'].filter((k) => r[k]).map((k) => `${k}/a = ${pairedRatio(r, k).toFixed(2)}`);
  if (refs.length > 0) console.log(`for reference: ${refs.join(', ')}`);
  const sameSink = ['b', 'c']
    .filter((k) => r[k] && r.e)
    .map((k) => `${k}/e = ${median(r[k].cpu.map((v, i) => v / r.e.cpu[i])).toFixed(2)}`);
  if (sameSink.length > 0) console.log(`our line over pino's own line through the same sink: ${sameSink.join(', ')}`);
  const walls = ['b', 'c'].filter((k) => r[k]).map((k) => `${k}/a = ${pairedRatio(r, k, 'wall').toFixed(2)}`);
  if (walls.length > 0) console.log(`wall-clock ratios: ${walls.join(', ')}`);
  return met;
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const variants = VARIANTS.filter(([k]) => !ONLY || ONLY.includes(k));
  const rounds = await runRounds(variants);
  const met = report(rounds);
  const l = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  console.log(`load average (1, 5, 15 min): ${l(loadBefore)} at the start, ${l(os.loadavg())} at the end`);
  fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = met ? 0 : 1;
}

void main();
