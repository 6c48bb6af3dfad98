import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiEnum, ApiInt } from '../openapi';
import { JobProgress, PROGRESS_STAGES, ProgressStage } from './job-progress';

/** A job's training progress, as read from its log; each field null while the log has not told it. */
export class JobProgressView implements JobProgress {
  /**
   * `loading_model`, `caching` (captions, buckets, latents, text embeddings), `training`, `validating`,
   * `saving_checkpoint`, `uploading` (to the Hugging Face Hub) or `completed` (final)
   */
  @ApiEnum(PROGRESS_STAGES, 'ProgressStage', { nullable: true, example: 'training' })
  stage: ProgressStage | null;
  /** Optimiser steps done */
  @ApiInt({ nullable: true, example: 120 })
  step: number | null;
  @ApiInt({ nullable: true, example: 1000 })
  total_steps: number | null;
  /** 0–100, one decimal (100 once completed) */
  @ApiProperty({ type: Number, nullable: true, example: 12 })
  percent: number | null;
  @ApiInt({ nullable: true, example: 3 })
  epoch: number | null;
  @ApiInt({ nullable: true, example: 10 })
  total_epochs: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 1.44 })
  steps_per_second: number | null;
  /** Remaining seconds as the training bar estimates them (0 once completed) */
  @ApiInt({ nullable: true, example: 612 })
  eta_seconds: number | null;
  /** The last step's loss */
  @ApiProperty({ type: Number, nullable: true, example: 0.123 })
  loss: number | null;
  /** When the progress last changed */
  @ApiDateTime({ nullable: true })
  updated_at: string | null;
}
