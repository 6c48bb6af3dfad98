/**
 * Where a SimpleTuner run is, as read from its log. A closed set, so the dashboard and stored events can rely on it:
 * - `loading_model`: the base model, its tokenizers/text encoders/VAE or a resume checkpoint are loading, or the
 *   model components are being prepared.
 * - `caching`: data backends are being configured: captions, bucket metadata, VAE latents, text embeddings.
 * - `training`: optimiser steps (the `Steps` bar moves).
 * - `validating`: validation images or validation loss (intermediary, final, or the base-model benchmark).
 * - `saving_checkpoint`: a checkpoint or the final model is being written.
 * - `uploading`: the model, a checkpoint or validation samples go to the Hugging Face Hub.
 * - `completed`: the trainer said the run is complete. Final: lines after it (the trainer's log tail that the Cog
 *   runner prints at the end, a late upload notice) do not move the stage back.
 */
export const PROGRESS_STAGES = [
  'loading_model',
  'caching',
  'training',
  'validating',
  'saving_checkpoint',
  'uploading',
  'completed',
] as const;
export type ProgressStage = (typeof PROGRESS_STAGES)[number];

/** A job's training progress; each field null while the log has not told it. */
export interface JobProgress {
  stage: ProgressStage | null;
  /** Optimiser steps done (the training bar's `n`, which counts steps done before a resume too). */
  step: number | null;
  total_steps: number | null;
  /** 0–100, one decimal: step / total_steps (100 once completed). */
  percent: number | null;
  epoch: number | null;
  total_epochs: number | null;
  /** The bar's rate; its `s/it` form is turned into steps per second. */
  steps_per_second: number | null;
  /** The bar's remaining time (0 once completed). */
  eta_seconds: number | null;
  /** The last `step_loss`. */
  loss: number | null;
  /**
   * When the progress was last seen to change (ISO 8601). Set by whoever stores it; the parser reads no clock and
   * leaves it out of what it returns.
   */
  updated_at?: string | null;
}

/** The last `job_progress` event of a job: when it went out and what it said, to decide whether the next is due. */
export interface ProgressEventMark {
  /** ISO 8601 */
  at: string;
  stage: ProgressStage | null;
  percent: number | null;
}
