import type { ProviderStatus } from './provider.interface';

/** A prediction's status word (Replicate's, which the simulator speaks too) as a job status. */
const PREDICTION_STATUS: Record<string, ProviderStatus> = {
  starting: 'queued',
  processing: 'running',
  succeeded: 'completed',
  failed: 'failed',
  canceled: 'cancelled',
  aborted: 'cancelled',
};

/** The job status a prediction status stands for; null for a word we do not know (the job keeps its status). */
export function predictionStatus(raw: string): ProviderStatus | null {
  return PREDICTION_STATUS[raw] ?? null;
}
