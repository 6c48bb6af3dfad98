/**
 * The server process of bench:api (forked by bench/api.ts): the production build (dist/, made by `nest build`)
 * configured from its environment like `node dist/src/main.js`, plus the bench-only floor route
 * (bench/api-floor.ts). It answers the orchestrator over IPC: RSS readings, seeding through the app's own
 * connection (PGlite serves one), CPU profiles of a window, a trace of the SQL statements run (every query goes
 * through TypeORM's PostgresQueryRunner.query), and a clean stop.
 *
 * It does not run from source: bench/api.ts transpiles this file and the three it imports into dist/bench/, where
 * `../src/…` is the built app, and runs it with plain node, so neither ts-node nor the TypeScript compiler sits in
 * the server's memory or profile.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DataSource } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { createApp } from '../src/app.factory';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../src/auth/api-key.util';
import { loadAppConfigOrExit } from '../src/config';
import { peekCorrelationId } from '../src/context';
import { BenchFloorModule } from './api-floor';
import { type FromServer, type ToServer, TRACE_ID_PREFIX, type TracedStatement } from './api-protocol';
import { seedApiBench } from './api-seed';

const send = (m: FromServer): void => void process.send!(m);

/** Records every statement run for a traced request (not the background's) until stopped. */
function traceStatements(): () => TracedStatement[] {
  type Query = (this: PostgresQueryRunner, sql: string, ...rest: unknown[]) => Promise<unknown>;
  const proto = PostgresQueryRunner.prototype as unknown as { query: Query };
  const original = proto.query;
  const seen = new Map<string, TracedStatement>();
  proto.query = async function (sql, ...rest) {
    if (!peekCorrelationId()?.startsWith(TRACE_ID_PREFIX)) return original.call(this, sql, ...rest);
    const t = performance.now();
    try {
      return await original.call(this, sql, ...rest);
    } finally {
      const key = sql.replace(/\s+/g, ' ').trim();
      const s = seen.get(key) ?? { sql: key, count: 0, totalMs: 0 };
      s.count++;
      s.totalMs += performance.now() - t;
      seen.set(key, s);
    }
  };
  return () => {
    proto.query = original;
    return [...seen.values()];
  };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const running = await createApp(loadAppConfigOrExit(), { port: 0, imports: [BenchFloorModule] });
  send({ kind: 'ready', url: running.url, rss: process.memoryUsage().rss, bootMs: performance.now() - t0 });
  const db = running.app.get(DataSource);
  let profiler: Session | undefined;
  let stopTrace: (() => TracedStatement[]) | undefined;

  const handle = async (msg: ToServer): Promise<void> => {
    switch (msg.kind) {
      case 'rss': {
        if (msg.gc) {
          setFlagsFromString('--expose-gc');
          const gc = runInNewContext('gc') as () => void;
          for (let i = 0; i < 3; i++) {
            gc();
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
        return send({ kind: 'rss', rss, heapTotal, heapUsed, external });
      }
      case 'cpu':
        return send({ kind: 'cpu', ...process.cpuUsage() });
      case 'seed': {
        const t = performance.now();
        const key = generateApiKey();
        const user = await seedApiBench(db, key, { hash: hashApiKey(key), prefix: apiKeyPrefix(key) });
        return send({ kind: 'seeded', seconds: (performance.now() - t) / 1000, ...user });
      }
      case 'profile-start':
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
        return send({ kind: 'profiling' });
      case 'profile-stop': {
        const { profile } = await profiler!.post('Profiler.stop');
        profiler!.disconnect();
        profiler = undefined;
        fs.writeFileSync(msg.file, JSON.stringify(profile));
        return send({ kind: 'profiled', file: msg.file });
      }
      case 'trace-start':
        stopTrace = traceStatements();
        return send({ kind: 'tracing' });
      case 'trace-stop': {
        const statements = stopTrace!();
        stopTrace = undefined;
        return send({ kind: 'traced', statements });
      }
      case 'stop':
        await running.close();
        send({ kind: 'stopped' });
        return process.exit(0);
    }
  };
  process.on('message', (msg: ToServer) => {
    handle(msg).catch((err: unknown) => send({ kind: 'failed', error: String((err as Error)?.stack ?? err) }));
  });
  // The orchestrator went away (killed, crashed): do not outlive it.
  process.on('disconnect', () => void running.close().finally(() => process.exit(1)));
}

main().catch((err: unknown) => {
  process.send?.({ kind: 'failed', error: String((err as Error)?.stack ?? err) });
  process.exit(1);
});
