import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateApiKey } from '../../src/auth/api-key.util';
import { fromSourceArgs } from '../support/spawn-app';
import { openSse, SseStream } from '../support/sse-client';
import { captureOutput } from '../support/test-logs';
import { makeTempDir } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const DASHBOARD_LOGGER = 'simpletuner.cloud.dashboard';

const ROOT = path.join(__dirname, '..', '..');
const CHILD = 'test/support/enterprise-example/shutdown-child.ts';
const ADMIN_KEY = generateApiKey();

interface Child {
  proc: ChildProcess;
  lines(): any[];
  output(): string;
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
  /** Resolves with when the first line whose message starts with `prefix` arrived, and that message. */
  waitFor(prefix: string, timeoutMs?: number): Promise<{ at: number; message: string }>;
}

/** The service's own entry path (createApp + installShutdownHandlers) with a slow enterprise task, as a process. */
function startChild(tickMs: number, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [...fromSourceArgs(CHILD), String(tickMs)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: '0',
      SIMPLETUNER_LOG_LEVEL: 'INFO',
      SIMPLETUNER_ENTERPRISE_CONFIG: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  captureOutput(proc.stdout, `[child ${proc.pid} stdout]`);
  captureOutput(proc.stderr, `[child ${proc.pid} stderr]`);
  let out = '';
  let err = '';
  const seen = new Map<string, number>();
  const waiters = new Set<() => void>();
  const parse = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l)];
        } catch {
          return [];
        }
      });
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of parse()) if (!seen.has(l.message)) seen.set(l.message, Date.now());
    waiters.forEach((w) => w());
  });
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    proc,
    lines: parse,
    output: () => `stdout:\n${out}\nstderr:\n${err}`,
    exited,
    waitFor(prefix, timeoutMs = 90_000) {
      return new Promise<{ at: number; message: string }>((resolve, reject) => {
        const check = () => {
          const hit = [...seen.entries()].find(([m]) => m.startsWith(prefix));
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve({ at: hit[1], message: hit[0] });
        };
        const timer = setTimeout(() => reject(new Error(`no "${prefix}" line\n${out}\n${err}`)), timeoutMs);
        waiters.add(check);
        check();
        void exited.then(() => setTimeout(() => reject(new Error(`exited before "${prefix}"\n${out}\n${err}`)), 50));
      });
    },
  };
}

describe('graceful shutdown of a process with background tasks (SIGTERM)', () => {
  let db: TestDatabase;
  const dirs: string[] = [];
  const children: Child[] = [];
  const launch = (tickMs: number, env: Record<string, string> = {}) => {
    const dir = makeTempDir('st-shutdown-');
    dirs.push(dir);
    // One database, so one bootstrap admin key for all.
    const child = startChild(tickMs, {
      DATABASE_URL: db.url,
      SIMPLETUNER_DATA_DIR: dir,
      SIMPLETUNER_ADMIN_API_KEY: ADMIN_KEY,
      ...env,
    });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await db?.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  // The three processes boot in parallel: ts-node start-up dominates the time of this file.
  it('waits for a slow tick, abandons one longer than the timeout with a WARNING, exits 0 when idle with an SSE client', async () => {
    const waits = launch(2000, { SIMPLETUNER_SHUTDOWN_TIMEOUT: '10' });
    const abandons = launch(60_000, { SIMPLETUNER_SHUTDOWN_TIMEOUT: '1' });
    const idle = launch(0, { SIMPLETUNER_SHUTDOWN_TIMEOUT: '10' });

    // Each gets SIGTERM as soon as its own tick is under way; the idle one once a client holds an SSE stream.
    const stopWhen = async (child: Child, message: string, before?: () => Promise<void>) => {
      const { at: seenAt } = await child.waitFor(message);
      await before?.();
      const sent = Date.now();
      child.proc.kill('SIGTERM');
      return { seenAt, sent, ...(await child.exited) };
    };
    let stream: SseStream | undefined;
    const openStream = async () => {
      const listening = (await idle.waitFor('SimpleTuner Cloud listening on ')).message;
      stream = await openSse(listening.replace('SimpleTuner Cloud listening on ', ''), '/api/events', {
        key: ADMIN_KEY,
      });
      expect(stream.status).toBe(200);
    };
    const [w, a, i] = await Promise.all([
      stopWhen(waits, 'Slow tick started'),
      stopWhen(abandons, 'Slow tick started'),
      stopWhen(idle, 'Background tasks started', openStream),
    ]);

    // 1. The in-flight tick finished before the process left, and the exit code is 0 (not 143).
    expect({ code: w.code, signal: w.signal }).toEqual({ code: 0, signal: null });
    const wl = waits.lines();
    const finished = wl.findIndex((l) => l.message === 'Slow tick finished');
    const complete = wl.findIndex((l) => l.message === 'Shutdown complete');
    expect(finished).toBeGreaterThan(-1);
    expect(complete).toBeGreaterThan(finished);
    expect(w.at - w.seenAt).toBeGreaterThanOrEqual(1900); // it waited out the 2 s tick
    expect(w.at - w.sent).toBeGreaterThanOrEqual(1000); // SIGTERM came within ms of the tick's start line
    expect(wl.filter((l) => l.message === 'Slow tick started')).toHaveLength(1); // no tick after SIGTERM
    // The dashboard's "not built" notice depends on whether this checkout ran `npm run build`, not on shutdown.
    const problems = wl.filter((l) => (l.level === 'WARNING' || l.level === 'ERROR') && l.logger !== DASHBOARD_LOGGER);
    expect(problems).toEqual([]);

    // 2. A tick longer than SIMPLETUNER_SHUTDOWN_TIMEOUT (1 s) is abandoned with a WARNING; still exit 0.
    expect({ code: a.code, signal: a.signal }).toEqual({ code: 0, signal: null });
    expect(a.at - a.sent).toBeGreaterThanOrEqual(900);
    expect(a.at - a.sent).toBeLessThan(5000);
    const al = abandons.lines();
    const warning = al.find((l) => l.level === 'WARNING' && /Abandoning/.test(l.message));
    expect(warning?.message).toMatch(/slow_export/);
    expect(al.some((l) => l.message === 'Slow tick finished')).toBe(false);

    // 3. Idle, with an open SSE stream: the stream is closed and the exit is 0 within 5 s.
    expect({ code: i.code, signal: i.signal }).toEqual({ code: 0, signal: null });
    expect(i.at - i.sent).toBeLessThan(5000);
    await stream!.waitFor((st) => st.ended, 2000, 'the SSE stream to end');
    await stream!.close();
  }, 180_000);
});
