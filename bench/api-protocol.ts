/** What bench/api.ts and its server process (bench/api-server.ts) say to each other over IPC. */
import type { BenchUser } from './api-seed';

/** Correlation ids of the traced requests start with this (sent as X-Correlation-ID). */
export const TRACE_ID_PREFIX = 'bench-trace-';

export type ToServer =
  /** With `gc`, after three full collections (how much of the heap is live, not waiting to be collected). */
  | { kind: 'rss'; gc?: boolean }
  | { kind: 'cpu' }
  | { kind: 'seed' }
  | { kind: 'profile-start' }
  | { kind: 'profile-stop'; file: string }
  | { kind: 'trace-start' }
  | { kind: 'trace-stop' }
  | { kind: 'stop' };

export interface TracedStatement {
  sql: string;
  count: number;
  /** From the call to its result, as the app waits for it (on PGlite: queueing for the one connection included). */
  totalMs: number;
}

export type FromServer =
  | { kind: 'ready'; url: string; rss: number; bootMs: number }
  /** process.memoryUsage(): RSS, the V8 heap, and memory outside it (buffers; PGlite's WASM memory). */
  | { kind: 'rss'; rss: number; heapTotal: number; heapUsed: number; external: number }
  /** process.cpuUsage(): user and system microseconds, all threads. */
  | { kind: 'cpu'; user: number; system: number }
  | ({ kind: 'seeded'; seconds: number } & BenchUser)
  | { kind: 'profiling' }
  | { kind: 'profiled'; file: string }
  | { kind: 'tracing' }
  | { kind: 'traced'; statements: TracedStatement[] }
  | { kind: 'stopped' }
  | { kind: 'failed'; error: string };
