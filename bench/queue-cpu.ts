/**
 * CPU time per side of bench/queue.ts: this process's (process.cpuUsage) and the database server's, summed over the
 * backends connected to the bench database (/proc/<pid>/schedstat, nanoseconds; only when the server runs on this
 * host and /proc is readable, else reported as unknown). On a shared machine the wall time of a round is mostly its
 * CPU time stretched by the load, so these say why one side is faster.
 */
import * as fs from 'node:fs';
import { DataSource } from 'typeorm';
import { fmt } from './queue-common';

interface Sample {
  node: number;
  /** CPU milliseconds of each backend, null when the server's processes cannot be read here. */
  db: Map<number, number> | null;
}

export class CpuMeter {
  private pids: number[] = [];
  private readonly totals = new Map<string, { node: number; db: number | null; dispatched: number }>();

  constructor(private readonly db: DataSource) {}

  /** Finds the backends of the bench database (pools open connections as they go: call before each block). */
  async refresh(): Promise<void> {
    const rows: { pid: number }[] = await this.db.query(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`,
    );
    this.pids = rows.map((r) => r.pid);
  }

  /** Times fn's CPU and adds it to `side`'s total with the dispatches it made. */
  async measure<T>(side: string, dispatched: (result: T) => number, fn: () => Promise<T>): Promise<T> {
    const before = this.sample();
    const result = await fn();
    const after = this.sample();
    const t = this.totals.get(side) ?? { node: 0, db: 0, dispatched: 0 };
    t.node += after.node - before.node;
    if (t.db !== null && before.db && after.db) {
      // A backend that closed meanwhile is left out (pools seldom close one during a round).
      for (const [pid, ms] of after.db) t.db += ms - (before.db.get(pid) ?? ms);
    } else t.db = null;
    t.dispatched += dispatched(result);
    this.totals.set(side, t);
    return result;
  }

  /** `side: this process X ms + database Y ms` per 100 dispatches, for each side measured. */
  report(): string {
    return [...this.totals]
      .map(([side, t]) => {
        const per100 = (ms: number) => fmt((ms / t.dispatched) * 100);
        return `${side} ${per100(t.node)} ms here + ${t.db === null ? '?' : per100(t.db)} ms in the database`;
      })
      .join('; ');
  }

  private sample(): Sample {
    const { user, system } = process.cpuUsage();
    const db = new Map<number, number>();
    for (const pid of this.pids) {
      try {
        db.set(pid, Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
      } catch {
        // Gone since refresh(), or not on this host.
      }
    }
    // None readable: the server is elsewhere (or /proc is closed to us): no figure rather than a wrong one.
    return { node: (user + system) / 1000, db: this.pids.length > 0 && db.size === 0 ? null : db };
  }
}
