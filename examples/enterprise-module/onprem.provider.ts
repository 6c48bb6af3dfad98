import type { ProviderJob, ProviderJobState, ProviderSubmission, TrainingProvider } from '../../src/providers';

/**
 * A training backend of our own: the in-house GPU cluster. Here it is a stand-in that "runs" each job for a fixed
 * time; a real one would call the cluster's scheduler. The jobs module polls it like Replicate (`get`/`syncMany`).
 */
export class OnpremProvider implements TrainingProvider {
  readonly name = 'onprem';
  private readonly started = new Map<string, { jobId: string; at: number; cancelled: boolean }>();

  constructor(
    private readonly runMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  submit(job: ProviderJob): Promise<ProviderSubmission> {
    const externalId = `onprem-${job.jobId}`;
    this.started.set(externalId, { jobId: job.jobId, at: this.now(), cancelled: false });
    return Promise.resolve({ externalId, status: 'running' });
  }

  get(externalId: string): Promise<ProviderJobState | null> {
    const run = this.started.get(externalId);
    if (!run) return Promise.resolve(null);
    const done = this.now() - run.at >= this.runMs;
    const status = run.cancelled ? 'cancelled' : done ? 'completed' : 'running';
    // Billed seconds: the jobs module prices them with the job's hardware profile, as it does Replicate's.
    const predictTimeSeconds = done ? this.runMs / 1000 : null;
    return Promise.resolve({ externalId, jobId: run.jobId, status, rawStatus: status, predictTimeSeconds });
  }

  cancel(externalId: string): Promise<void> {
    const run = this.started.get(externalId);
    if (run) run.cancelled = true;
    return Promise.resolve();
  }

  async findByJobId(jobId: string): Promise<ProviderJobState | null> {
    return this.get(`onprem-${jobId}`);
  }
}
