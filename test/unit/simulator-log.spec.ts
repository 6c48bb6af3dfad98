import type { JobProgress } from '../../src/common/job-progress';
import { parseProgress } from '../../src/job-logs/progress-parser';
import type { ProviderJob, ProviderJobState } from '../../src/providers/provider.interface';
import { SimulatorProvider } from '../../src/providers/simulator/simulator.provider';

const STEP_SECONDS = 5;

function job(config: Record<string, unknown> = {}): ProviderJob {
  return {
    jobId: 'job-1',
    configName: 'flux-lora',
    config,
    hardwareProfile: 'gpu-l40s',
    dataloaderConfig: null,
    lycorisConfig: null,
    dataset: null,
    hubModelId: null,
    maxTrainSteps: null,
    externalId: null,
    createdAt: new Date(0),
  };
}

interface Poll {
  state: ProviderJobState;
  progress: JobProgress | null;
}

/**
 * Polls the simulator every `everyMs` of its clock until the prediction ends (or `untilMs`), appending only the new
 * part of its `logs` to the stored text and parsing that part, as the jobs module does with a provider's log.
 */
async function pollRun(
  sim: SimulatorProvider,
  clock: { t: number },
  externalId: string,
  everyMs: number,
  untilMs = Infinity,
) {
  const polls: Poll[] = [];
  let stored = '';
  let progress: JobProgress | null = null;
  const start = clock.t;
  for (;;) {
    const state = (await sim.get(externalId))!;
    const logs = state.logs ?? '';
    expect(logs.startsWith(stored)).toBe(true); // the log only grows
    progress = parseProgress(logs.slice(stored.length), progress);
    stored = logs;
    polls.push({ state, progress });
    if (['completed', 'failed', 'cancelled'].includes(state.status ?? '') || clock.t - start >= untilMs) return polls;
    clock.t += everyMs;
  }
}

describe('simulator log', () => {
  const clock = { t: Date.UTC(2026, 0, 1) };
  const sim = new SimulatorProvider(STEP_SECONDS, () => clock.t);

  it('writes a SimpleTuner-like log whose progress moves through training to completed', async () => {
    const { externalId } = await sim.submit(job());
    const polls = await pollRun(sim, clock, externalId, 150);

    expect(polls[0].state).toMatchObject({ rawStatus: 'starting', logs: '' });
    const running = polls.filter((p) => p.state.rawStatus === 'processing');
    expect(running.length).toBeGreaterThan(20);
    const steps = running.map((p) => p.progress?.step ?? 0);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBeGreaterThan(10); // the bar moves from poll to poll
    const stages = running.map((p) => p.progress?.stage).filter((s, i, all) => s && s !== all[i - 1]);
    expect(stages).toEqual(
      expect.arrayContaining(['loading_model', 'caching', 'training', 'saving_checkpoint', 'validating']),
    );
    expect(stages.indexOf('loading_model')).toBeLessThan(stages.indexOf('training'));

    const last = polls[polls.length - 1];
    expect(last.state.rawStatus).toBe('succeeded');
    expect(last.progress).toMatchObject({
      stage: 'completed',
      step: 200,
      total_steps: 200,
      percent: 100,
      epoch: 4,
      total_epochs: 4,
      eta_seconds: 0,
    });
    expect(last.progress?.loss).toBeGreaterThan(0);
    expect(last.progress?.steps_per_second).toBeGreaterThan(0);
  });

  it('mid-training, the progress has an ETA matching the time left of the run and a loss', async () => {
    const { externalId } = await sim.submit(job());
    const polls = await pollRun(sim, clock, externalId, 250, 1.5 * STEP_SECONDS * 1000);
    const mid = polls[polls.length - 1].progress!;
    expect(mid).toMatchObject({ stage: 'training', total_steps: 200, total_epochs: 4 });
    expect(mid.percent).toBeGreaterThan(20);
    expect(mid.percent).toBeLessThan(80);
    // The bar's rate and remaining time are measured on the run's own clock (training spans most of one step).
    expect(mid.eta_seconds).toBeGreaterThan(0);
    expect(mid.eta_seconds).toBeLessThanOrEqual(STEP_SECONDS);
    expect(mid.loss).toBeGreaterThan(0);
  });

  it('a simulated failure ends its log with the error, the stage short of completed', async () => {
    const { externalId } = await sim.submit(job({ simulate_failure: true }));
    const polls = await pollRun(sim, clock, externalId, 400);
    const last = polls[polls.length - 1];
    expect(last.state.rawStatus).toBe('failed');
    expect(last.state.logs).toMatch(/RuntimeError: Simulated failure \(config\.simulate_failure\)\n$/);
    expect(last.progress?.stage).not.toBe('completed');
    expect(last.progress?.step).toBeLessThan(200);
  });

  it('a cancelled run keeps the log it had when cancelled', async () => {
    const { externalId } = await sim.submit(job());
    clock.t += 1.3 * STEP_SECONDS * 1000;
    await sim.cancel(externalId);
    const atCancel = (await sim.get(externalId))!.logs;
    clock.t += 10 * STEP_SECONDS * 1000;
    const later = await sim.get(externalId);
    expect(later).toMatchObject({ rawStatus: 'canceled', logs: atCancel });
    expect(parseProgress(atCancel ?? '', null)).toMatchObject({ stage: 'training' });
  });
});
