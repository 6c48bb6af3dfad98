/**
 * BENCH_STATEMENTS=1: the SQL one tick of ours runs, as round trips to the database: every query goes through pg's
 * Client.query (TypeORM's and the claim's own), one message each, which may hold several statements.
 */
import * as fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { fmt } from './queue-common';

interface Traced {
  sql: string;
  count: number;
  totalMs: number;
}

/** Runs fn with every statement recorded, then prints them in the order first run, with their count and time. */
export async function traceStatements<T>(label: string, fn: () => Promise<T>): Promise<T> {
  type Query = (this: Client, sql: unknown, ...rest: unknown[]) => Promise<unknown>;
  const proto = Client.prototype as unknown as { query: Query };
  const original = proto.query;
  const seen = new Map<string, Traced>();
  proto.query = async function (sql, ...rest) {
    const t = performance.now();
    try {
      return await original.call(this, sql, ...rest);
    } finally {
      const text = typeof sql === 'string' ? sql : String((sql as { text?: string }).text);
      const key = text.replace(/\s+/g, ' ').trim();
      const s = seen.get(key) ?? { sql: key, count: 0, totalMs: 0 };
      s.count++;
      s.totalMs += performance.now() - t;
      seen.set(key, s);
    }
  };
  try {
    return await fn();
  } finally {
    proto.query = original;
    const all = [...seen.values()];
    console.log(`SQL of ${label}: ${all.reduce((n, s) => n + s.count, 0)} round trips`);
    for (const s of all) console.log(`  ${s.count} × ${fmt(s.totalMs / s.count, 2)} ms  ${s.sql.slice(0, 160)}`);
  }
}

/**
 * BENCH_CPU_PROF=dir: a CPU profile of fn alone (our ticks at one size), written to dir/queue-<label>.cpuprofile;
 * with BENCH_HEAP_PROF=1 also its allocations, to dir/queue-<label>.heapprofile.
 */
export async function profiled<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  // Every allocation sampled, collected or not: what the garbage collector has to clear after each tick.
  const heap = process.env.BENCH_HEAP_PROF === '1';
  if (heap) {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  try {
    return await fn();
  } finally {
    const allocations = heap ? (await session.post('HeapProfiler.stopSampling')).profile : null;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    fs.mkdirSync(dir, { recursive: true });
    if (allocations) {
      const file = path.join(dir, `queue-${label}.heapprofile`);
      fs.writeFileSync(file, JSON.stringify(allocations));
      console.log(`Allocations of ${label}: ${file} (open it in Chrome DevTools, Memory tab)`);
    }
    const file = path.join(dir, `queue-${label}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    console.log(`CPU profile of ${label}: ${file} (read it with bench/cpuprofile-top.ts)`);
  }
}
