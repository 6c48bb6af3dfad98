import { useState } from 'preact/hooks';
import { useServerEvents } from '../dashboard-context';
import { dateTime, duration } from '../format';
import type { JobProgress } from '../api-types';

const STAGES: Record<string, string> = {
  loading_model: 'Loading the model',
  caching: 'Caching',
  training: 'Training',
  validating: 'Validating',
  saving_checkpoint: 'Saving a checkpoint',
  uploading: 'Uploading to the Hub',
  completed: 'Completed',
};

const stageName = (stage: string | null): string => (stage ? (STAGES[stage] ?? stage.replace(/_/g, ' ')) : 'Starting');

/**
 * The newest progress of each job, from `job_progress` events, over what a list or a job answer carried: an event
 * is newer than the answer it arrives after, and an answer reloaded later replaces the override only when its own
 * `updated_at` is as new.
 */
export function useLiveProgress(): (jobId: string, listed: JobProgress | null | undefined) => JobProgress | null {
  const [live, setLive] = useState<ReadonlyMap<string, JobProgress>>(new Map());
  useServerEvents(({ data }) => {
    if (data.type !== 'job_progress') return;
    const { type: _t, job_id, ...progress } = data;
    setLive((map) => new Map(map).set(job_id, progress));
  });
  return (jobId, listed) => {
    const fromEvent = live.get(jobId);
    if (!fromEvent) return listed ?? null;
    if (!listed?.updated_at || !fromEvent.updated_at) return fromEvent;
    return listed.updated_at > fromEvent.updated_at ? listed : fromEvent;
  };
}

/** A bar for a known percentage, its number beside it (never the bar alone). */
export function ProgressBar({ percent, label }: { percent: number; label: string }) {
  const value = Math.min(100, Math.max(0, percent));
  return (
    <span class="progress">
      <progress max={100} value={value} aria-label={label} />
      <span class="progress-number">{value.toFixed(value < 10 ? 1 : 0)} %</span>
    </span>
  );
}

const num = (n: number | null, digits: number) => (n === null ? '—' : n.toFixed(digits));

/** The detail page's progress: the bar, step and epoch, speed, time left and the latest loss. */
export function ProgressPanel({ progress, running }: { progress: JobProgress | null; running: boolean }) {
  if (!progress) {
    return (
      <p class="placeholder">
        {running ? 'No progress reported yet: it shows once the trainer logs its first step.' : 'No progress recorded.'}
      </p>
    );
  }
  const steps =
    progress.step !== null ? `${progress.step}${progress.total_steps ? ` / ${progress.total_steps}` : ''}` : '—';
  const epochs =
    progress.epoch !== null ? `${progress.epoch}${progress.total_epochs ? ` / ${progress.total_epochs}` : ''}` : '—';
  return (
    <div class="progress-panel">
      <p class="progress-stage">
        <strong>{stageName(progress.stage)}</strong>
        {progress.percent !== null && <ProgressBar percent={progress.percent} label="Training progress" />}
      </p>
      <dl class="facts">
        <div>
          <dt>Step</dt>
          <dd>{steps}</dd>
        </div>
        <div>
          <dt>Epoch</dt>
          <dd>{epochs}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd>{running && progress.eta_seconds !== null ? `about ${duration(progress.eta_seconds)}` : '—'}</dd>
        </div>
        <div>
          <dt>Loss</dt>
          <dd>{num(progress.loss, 4)}</dd>
        </div>
        <div>
          <dt>Speed</dt>
          <dd>{progress.steps_per_second === null ? '—' : `${num(progress.steps_per_second, 2)} steps/s`}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>{dateTime(progress.updated_at)}</dd>
        </div>
      </dl>
    </div>
  );
}
