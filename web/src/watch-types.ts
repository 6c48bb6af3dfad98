/**
 * REPLACE WITH GENERATED TYPES: the shape of a job's progress, written here by hand because it is not in
 * client/openapi.d.ts yet. Once it is, these become `Schemas['…']` names in api-types.ts (JobView's `progress`, the
 * `job_progress` event) and this file goes away.
 */
import type { Job } from './api-types';

/** What the trainer's log says about how far a run is; every field null while unknown. */
export interface JobProgress {
  /** e.g. `model_loading`, `caching`, `training`, `validation`, `checkpoint_saving`, `uploading` */
  stage: string | null;
  step: number | null;
  total_steps: number | null;
  /** 0–100 */
  percent: number | null;
  epoch: number | null;
  total_epochs: number | null;
  steps_per_second: number | null;
  eta_seconds: number | null;
  loss: number | null;
  updated_at: string | null;
}

/** A job as GET /api/cloud/jobs answers once it carries `progress` (absent on a service without it). */
export type WatchedJob = Job & { progress?: JobProgress | null };

/** The `data` of a `job_progress` event: the progress fields flat beside `job_id`, or nested under `progress`. */
export type JobProgressEvent = JobProgress & { type: 'job_progress'; job_id: string; progress?: JobProgress };
