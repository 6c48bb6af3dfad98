import { randomBytes } from 'node:crypto';
import type { ProviderJobState, ProviderSubmission, TrainingProvider } from '../provider.interface';
import type { ProviderJob } from '../provider.interface';
import { predictionStatus } from '../prediction-status';
import { simulatedLog } from './simulator-log';

const ID = /^sim_([0-9a-z]+)_([sf])_[0-9a-f]+$/;

/**
 * The built-in provider, so a fresh install shows the whole flow: needs no credentials; a run goes starting →
 * processing → succeeded (or failed when `config.simulate_failure`) one step per `stepSeconds`. Its state is derived
 * from the prediction id (creation time and outcome are encoded in it), so it survives a restart and several
 * instances agree. While processing it writes a SimpleTuner-like log (simulator-log.ts), returned whole on every
 * get as Replicate returns `logs`, so progress and the log tail move.
 */
export class SimulatorProvider implements TrainingProvider {
  readonly name = 'simulator';
  /** Cancelled predictions and when (ms): the log stops there. */
  private readonly cancelled = new Map<string, number>();

  constructor(
    private readonly stepSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  isConfigured(): boolean {
    return true;
  }

  submit(job: ProviderJob): Promise<ProviderSubmission> {
    const fail = job.config?.simulate_failure === true ? 'f' : 's';
    const externalId = `sim_${this.now().toString(36)}_${fail}_${randomBytes(4).toString('hex')}`;
    return Promise.resolve({ externalId, status: 'queued' });
  }

  get(externalId: string): Promise<ProviderJobState | null> {
    return Promise.resolve(this.stateOf(externalId));
  }

  /** The state follows from the id and the clock alone: queued, then running, then ended, one step each. */
  private stateOf(externalId: string): ProviderJobState | null {
    const m = ID.exec(externalId);
    if (!m) return null;
    const created = parseInt(m[1], 36);
    const stepMs = this.stepSeconds * 1000;
    const cancelledAt = this.cancelled.get(externalId);
    const elapsed = (cancelledAt ?? this.now()) - created;
    const step = Math.floor(elapsed / stepMs);
    let raw: string;
    if (cancelledAt !== undefined) raw = 'canceled';
    else if (step < 1) raw = 'starting';
    else if (step < 2) raw = 'processing';
    else raw = m[2] === 'f' ? 'failed' : 'succeeded';
    const done = raw === 'succeeded' || raw === 'failed';
    return {
      externalId,
      status: predictionStatus(raw),
      rawStatus: raw,
      error: raw === 'failed' ? 'Simulated failure (config.simulate_failure)' : null,
      outputUrl: raw === 'succeeded' ? `simulator://outputs/${externalId}` : null,
      predictTimeSeconds: done ? this.stepSeconds : null,
      startedAt: step >= 1 ? new Date(created + stepMs) : null,
      completedAt: done ? new Date(created + 2 * stepMs) : null,
      logs: simulatedLog(
        { id: externalId, fails: m[2] === 'f', windowSeconds: this.stepSeconds },
        elapsed / stepMs - 1,
      ),
    };
  }

  cancel(externalId: string): Promise<void> {
    if (!this.cancelled.has(externalId)) this.cancelled.set(externalId, this.now());
    return Promise.resolve();
  }

  findByJobId(): Promise<ProviderJobState | null> {
    // Submitting is in-process and cannot have an unknown outcome.
    return Promise.resolve(null);
  }
}
