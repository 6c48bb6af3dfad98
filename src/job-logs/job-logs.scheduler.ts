import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { getLogger } from '../logging';
import { Interval } from '../scheduling';
import { FollowSummary, LogFollowService } from './log-follow.service';

const log = getLogger('simpletuner.cloud.job_logs');
const LOG_FOLLOW_TASK = 'job_log_follow';
const LOG_WATCHERS_TASK = 'job_log_watchers';

/** Transport only: the log follow's two tasks, each one call into LogFollowService. */
@Injectable()
export class JobLogsScheduler {
  constructor(
    private readonly follow: LogFollowService,
    private readonly clock: Clock,
  ) {}

  // Once per interval across instances: a followed job is fetched once, however many watch it, wherever.
  @Interval(LOG_FOLLOW_TASK, (config) => config.env.SIMPLETUNER_LOG_FOLLOW_INTERVAL, {
    leader: true,
    onStart: (s) => log.info('Job log follow task started', { interval_seconds: s.interval_seconds }),
  })
  followLogs(): Promise<FollowSummary> {
    return this.follow.followTick(this.clock.now());
  }

  // Renews this instance's watcher rows well within their freshness window (3 intervals, at least 15 s).
  @Interval(LOG_WATCHERS_TASK, (config) => Math.min(5, config.env.SIMPLETUNER_LOG_FOLLOW_INTERVAL), {
    reason: "renews this instance's followed job logs",
  })
  renewWatchers(): Promise<void> {
    return this.follow.syncWatchers();
  }
}
