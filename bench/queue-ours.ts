/** Our queue's side of bench/queue.ts: ticks of 100 at a constant depth, each round followed by pg-boss's. */
import { DataSource } from 'typeorm';
import { JobTransitionService } from '../src/jobs/job-transition.service';
import { QueueService } from '../src/queue/queue.service';
import { BATCH, fmt, median, ms, ROUNDS, Row, WARM_UP } from './queue-common';
import type { CpuMeter } from './queue-cpu';
import { profiled, traceStatements } from './queue-trace';

/**
 * Frees every slot the way polling does: the jobs complete through the transition function in batches of 25
 * (one transaction, one batched transition and one batched slot release each), two batches at a time.
 */
async function completeRunning(db: DataSource, transitions: JobTransitionService): Promise<void> {
  const running: { job_id: string }[] = await db.query(`SELECT job_id FROM queue_entries WHERE status = 'running'`);
  const batches: string[][] = [];
  for (let i = 0; i < running.length; i += 25) batches.push(running.slice(i, i + 25).map((r) => r.job_id));
  for (let i = 0; i < batches.length; i += 2) {
    await Promise.all(
      batches.slice(i, i + 2).map((ids) =>
        transitions.transitionMany(
          ids.map((jobId) => ({ jobId, to: 'completed' as const })),
          { source: 'bench.poll' },
        ),
      ),
    );
  }
}

/**
 * Outside the timing: the jobs that finished go back into the queue as new submissions would (pending, queued now,
 * at the back of their priority level), so the depth stays n through every round.
 */
async function requeue(db: DataSource, finished: string): Promise<void> {
  await db.query(
    `UPDATE queue_entries
        SET status = 'pending', queued_at = now(), pending_since = now(), next_aging_at = now() + interval '60 minutes',
            effective_priority = base_priority, dispatched_at = NULL, dispatch_token = NULL, attempt = 0,
            finished_at = NULL, last_error = NULL
      WHERE status = $1`,
    [finished],
  );
  await db.query(
    `UPDATE jobs SET status = 'pending', external_id = NULL, attempt = 0, started_at = NULL, completed_at = NULL,
                     queued_at = now()
      WHERE status = $1 AND correlation_id LIKE 'bench%'`,
    [finished === 'running' ? 'queued' : finished],
  );
}

/**
 * BENCH_CPU_PROF=dir: a CPU profile of 50 ticks alone. Between ticks the dispatched jobs go straight back to
 * pending (two bare statements), so the profile holds the ticks and hardly anything else.
 */
async function profileTicks(db: DataSource, n: number, tick: () => Promise<number>): Promise<void> {
  await profiled(`ticks-${n}`, async () => {
    for (let i = 0; i < 50; i++) {
      await tick();
      await requeue(db, 'running');
    }
  });
}

/**
 * WARM_UP then ROUNDS rounds: our tick (timed: dispatch only), the completions that free its slots (timed with it:
 * the lifecycle), the jobs back into the queue (not timed), then `other` (pg-boss's round, timing itself).
 */
export async function runOurs(
  db: DataSource,
  queue: QueueService,
  transitions: JobTransitionService,
  n: number,
  meter: CpuMeter,
  other: (measured: boolean) => Promise<void>,
): Promise<Pick<Row, 'tickMs' | 'dispatchOnlyPerSec' | 'sustainedPerSec'>> {
  const tick = async () => {
    const t = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const s = await queue.processTick(new Date());
    const took = ms(t);
    const used = process.cpuUsage(cpu);
    if (process.env.BENCH_VERBOSE)
      console.log(
        `  tick: ${fmt(took)} ms: claim ${fmt(s.claim_ms)} ms, submit+record ${fmt(s.dispatch_ms)} ms; ` +
          `this process's CPU ${fmt(used.user / 1000)} user + ${fmt(used.system / 1000)} sys ms`,
      );
    if (s.dispatched !== BATCH) throw new Error(`a tick dispatched ${s.dispatched}, expected ${BATCH}`);
    return took;
  };
  const ticks: number[] = [];
  let lifecycle = 0;
  for (let round = -WARM_UP; round < ROUNDS; round++) {
    await meter.refresh();
    const start = process.hrtime.bigint();
    const took = round >= 0 ? await meter.measure('ours', () => BATCH, tick) : await tick();
    await completeRunning(db, transitions);
    if (round >= 0) {
      lifecycle += ms(start);
      ticks.push(took);
    }
    await requeue(db, 'completed');
    await other(round >= 0);
  }
  if (process.env.BENCH_STATEMENTS) {
    await traceStatements(`one tick at ${fmt(n, 0)} entries`, tick);
    await requeue(db, 'running');
  }
  if (process.env.BENCH_CPU_PROF) await profileTicks(db, n, tick);
  const dispatched = ROUNDS * BATCH;
  return {
    tickMs: median(ticks),
    dispatchOnlyPerSec: (dispatched / ticks.reduce((a, b) => a + b, 0)) * 1000,
    sustainedPerSec: (dispatched / lifecycle) * 1000,
  };
}
