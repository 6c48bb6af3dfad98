import { AsyncResource } from 'node:async_hooks';
import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { NotificationListener } from '../database/notification-listener';
import { isTerminal, JobRecordsService } from '../jobs';
import { getLogger } from '../logging';
import { JOB_LOGS_CHANNEL, JobLogsRepository } from './job-logs.repository';

const log = getLogger('simpletuner.cloud.job_logs');

/**
 * The safety net under the wake-ups (a lost notification, a listener reconnecting) and how a stream learns that its
 * job ended: one read of the watched jobs' log lengths and statuses per instance, whatever the number of streams.
 */
const CHECK_MS = 2_000;

/** One log stream's end of the fan-out. */
export interface LogSink {
  readonly jobId: string;
  /** New text may have been stored. */
  wake(): void;
  /** What the periodic check saw: the log's length (provider bytes read so far) and whether the job ended. */
  observe(consumed: number, terminal: boolean): void;
  heartbeat(): void;
  /** Ends the stream (shutdown). */
  close(): void;
}

/**
 * Wakes the log streams of this instance when their job's log grows: an append on this instance wakes them after
 * its commit, one on another instance through PostgreSQL's NOTIFY on the job logs' channel (the listener connection
 * the events use), and a periodic check catches what both missed.
 */
@Injectable()
export class JobLogHub implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly byJob = new Map<string, Set<LogSink>>();
  private readonly listeners: Array<() => void> = [];
  private checkTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private checking = false;
  private stopped = false;
  /** Boot's async context: timers started from a request must not carry its correlation id. */
  private readonly scope = new AsyncResource('simpletuner.job_logs.hub');

  constructor(
    private readonly notifications: NotificationListener,
    private readonly repo: JobLogsRepository,
    private readonly records: JobRecordsService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.notifications.subscribe(JOB_LOGS_CHANNEL, {
      onNotify: (jobId) => this.wake(jobId),
      onReconnect: () => this.wakeAll(),
    });
  }

  onApplicationBootstrap(): void {
    this.scope.runInAsyncScope(() => {
      this.checkTimer = setInterval(() => void this.check(), CHECK_MS).unref();
      const beat = this.config.env.SIMPLETUNER_SSE_HEARTBEAT_SECONDS * 1000;
      this.heartbeatTimer = setInterval(() => this.forEach((s) => s.heartbeat()), beat).unref();
    });
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.checkTimer);
    clearInterval(this.heartbeatTimer);
    const open = this.sinks();
    this.forEach((s) => s.close());
    if (open.length > 0) log.info(`Closed ${open.length} job log streams for shutdown`);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Called whenever the set of watched jobs or their watcher counts change. */
  onWatchersChanged(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Watchers per job on this instance. */
  watched(): Map<string, number> {
    return new Map([...this.byJob].map(([jobId, sinks]) => [jobId, sinks.size]));
  }

  streams(): number {
    let n = 0;
    for (const sinks of this.byJob.values()) n += sinks.size;
    return n;
  }

  add(sink: LogSink): void {
    const sinks = this.byJob.get(sink.jobId) ?? new Set<LogSink>();
    sinks.add(sink);
    this.byJob.set(sink.jobId, sinks);
    this.changed();
  }

  remove(sink: LogSink): void {
    const sinks = this.byJob.get(sink.jobId);
    if (!sinks?.delete(sink)) return;
    if (sinks.size === 0) this.byJob.delete(sink.jobId);
    this.changed();
  }

  wake(jobId: string): void {
    for (const sink of this.byJob.get(jobId) ?? []) sink.wake();
  }

  /** One read for every watched job: the log lengths and the statuses, handed to each stream of the job. */
  async check(): Promise<void> {
    if (this.checking || this.stopped || this.byJob.size === 0) return;
    this.checking = true;
    try {
      const ids = [...this.byJob.keys()];
      const consumed = await this.repo.consumed(ids);
      const jobs = new Map((await this.records.read(ids)).map((j) => [j.jobId, j]));
      for (const id of ids) {
        const job = jobs.get(id);
        // A job deleted while streamed is over too.
        const ended = !job || isTerminal(job.status);
        for (const sink of this.byJob.get(id) ?? []) sink.observe(consumed.get(id) ?? 0, ended);
      }
    } catch (error) {
      log.warning('Checking the streamed job logs failed; will retry', { error });
    } finally {
      this.checking = false;
    }
  }

  private wakeAll(): void {
    this.forEach((s) => s.wake());
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private sinks(): LogSink[] {
    return [...this.byJob.values()].flatMap((s) => [...s]);
  }

  private forEach(fn: (sink: LogSink) => void): void {
    for (const sink of this.sinks()) {
      try {
        fn(sink);
      } catch (error) {
        log.warning('A job log stream failed', { error });
      }
    }
  }
}
