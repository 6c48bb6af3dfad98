import type { Counter, Histogram } from 'prom-client';
import type { MetricsService } from '../metrics';
import type { TickOutcome } from '../common/scheduled-task.types';

/** The manager's Prometheus series. */
export class TaskMetrics {
  private readonly runs: Counter<'task' | 'outcome'>;
  private readonly seconds: Histogram<'task'>;

  constructor(metrics: MetricsService) {
    this.runs = metrics.counter({
      name: 'simpletuner_background_task_runs_total',
      help: 'Background task ticks by outcome (success, failure, skipped: previous run still going, not_leader: another instance holds the lease)',
      labelNames: ['task', 'outcome'],
    });
    this.seconds = metrics.histogram({
      name: 'simpletuner_background_task_duration_seconds',
      help: 'Duration of background task runs',
      labelNames: ['task'],
      buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60, 300],
    });
  }

  outcome(task: string, outcome: TickOutcome): void {
    this.runs.inc({ task, outcome });
  }

  duration(task: string, seconds: number): void {
    this.seconds.observe({ task }, seconds);
  }
}
