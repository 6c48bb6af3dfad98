/**
 * The log of a simulated run, written as SimpleTuner's Replicate (Cog) image prints it: the Cog runner's event lines
 * (`[STAGE]`, `[TRAINING]`, `[CHECKPOINT]`, `[INFO]`) and tqdm's training bar, one draw a line as Replicate's log
 * keeps them. The run: a LoRA of 200 steps over 4 epochs, a checkpoint every 50 steps, a validation every 100, then
 * the final save and validations.
 *
 * Each line has its moment, a fraction of the processing window, and what a line says depends on that moment only;
 * so the text at a later time always extends the text at an earlier one, as a provider's log does.
 */

const TOTAL_STEPS = 200;
const EPOCHS = 4;
const CHECKPOINT_EVERY = 50;
const VALIDATE_EVERY = 100;
const BAR_EVERY = 5;
const LR = '0.0001';
/** The training bar moves from TRAIN_START to TRAIN_END of the processing window; setup before, final save after. */
const TRAIN_START = 0.16;
const TRAIN_END = 0.84;
/** Where a simulated failure (`config.simulate_failure`) stops the run. */
const FAIL_AT = 0.5;

interface Line {
  /** Fraction of the processing window (0–1) at which the line is printed. */
  at: number;
  text: string;
}

export interface SimulatedRun {
  /** The prediction id: names the output folder and seeds the loss curve. */
  id: string;
  fails: boolean;
  /** Length of the processing window, seconds (the bar's times and rate are measured in it). */
  windowSeconds: number;
}

/** The log as it stands `fraction` (0–1, more = all of it) into the processing window. */
export function simulatedLog(run: SimulatedRun, fraction: number): string {
  // Sorted by moment (a stable sort keeps the written order of lines of one moment), so that a later cut holds
  // every line of an earlier one, in the same order.
  const lines = timeline(run)
    .sort((a, b) => a.at - b.at)
    .filter((line) => line.at <= fraction);
  return lines.map((line) => `${line.text}\n`).join('');
}

function timeline(run: SimulatedRun): Line[] {
  const out = `output/cog/${run.id}`;
  const lines = [...setupLines(), ...trainingLines(run, out), ...finalLines(out)];
  if (!run.fails) return lines;
  return [
    ...lines.filter((line) => line.at < FAIL_AT),
    { at: FAIL_AT, text: '[ERROR] Training failed: Simulated failure (config.simulate_failure)' },
    { at: FAIL_AT, text: '[COG] Webhook receiver stopped' },
    { at: FAIL_AT, text: 'RuntimeError: Simulated failure (config.simulate_failure)' },
  ];
}

function setupLines(): Line[] {
  const at = (moment: number, ...texts: string[]): Line[] => texts.map((text) => ({ at: moment, text }));
  return [
    ...at(0, '[COG] Webhook receiver started on http://127.0.0.1:40517/webhook'),
    ...at(0.01, '[STAGE] ⏳ Loading base model: Loading model: `black-forest-labs/FLUX.1-dev`...'),
    ...at(0.03, 'Loading checkpoint shards:  50%|█████     | 1/2 [00:00<00:00,  2.51it/s]'),
    ...at(0.04, 'Loading checkpoint shards: 100%|██████████| 2/2 [00:00<00:00,  2.55it/s]'),
    ...at(0.05, '[STAGE] ✓ Loading base model (100.0%): Base model has loaded.'),
    ...at(0.06, '[STAGE] ⏳ Configuring data backends: Configuring data backends... (this may take a while!)'),
    ...at(0.07, '[STAGE] ⏳ VAE Cache initialising (0.0%)'),
    ...at(0.09, 'Processing bucket 1.0: 100%|██████████| 12/12 [00:00<00:00, 14.80it/s]'),
    ...at(0.1, '[STAGE] ✓ VAE Cache initialising (100.0%): VAE cache initialization complete'),
    ...at(0.11, '[STAGE] ⏳ Loading text embedding cache (0.0%): Loading text embedding cache(s)...'),
    ...at(0.12, '[STAGE] ✓ Configuring data backends (100.0%): Completed configuring data backends.'),
    ...at(0.13, '[STAGE] ⏳ Preparing model components: Preparing model components'),
    ...at(0.14, '[STAGE] ✓ Preparing model components: Completed preparing model components'),
    ...at(0.15, '[STAGE] ✓ Resume Checkpoint: No model to resume. Beginning fresh training run.'),
    ...at(
      TRAIN_START,
      '[TRAINING] ',
      '***** Running training *****',
      '-  Trainable parameters: 18.69M',
      `-  Num batches = ${TOTAL_STEPS / EPOCHS}`,
      `-  Num Epochs = ${EPOCHS}`,
      '  - Current Epoch = 1',
      '-  Total train batch size (w. parallel, distributed & accumulation) = 1',
      '  - Instantaneous batch size per device = 1',
      '  - Gradient Accumulation steps = 1',
      `-  Total optimization steps = ${TOTAL_STEPS}`,
      `-  Total optimization steps remaining = ${TOTAL_STEPS}`,
      `Epoch 1/${EPOCHS} Steps:   0%|          | 0/${TOTAL_STEPS} [00:00<?, ?it/s]`,
    ),
  ];
}

function trainingLines(run: SimulatedRun, out: string): Line[] {
  const lines: Line[] = [];
  const loss = lossCurve(run.id);
  for (let step = BAR_EVERY; step <= TOTAL_STEPS; step += BAR_EVERY) {
    const at = TRAIN_START + ((TRAIN_END - TRAIN_START) * step) / TOTAL_STEPS;
    lines.push({ at, text: bar(step, loss(step), (at - TRAIN_START) * run.windowSeconds) });
    if (step % CHECKPOINT_EVERY === 0 && step < TOTAL_STEPS) lines.push(...checkpointLines(at, step, loss, out));
    if (step % VALIDATE_EVERY === 0 && step < TOTAL_STEPS) {
      lines.push({ at: at + 0.006, text: '[STAGE] ⏳ Running Validation: Validation is starting.' });
    }
  }
  return lines;
}

function checkpointLines(at: number, step: number, loss: (step: number) => number, out: string): Line[] {
  const epoch = Math.ceil(step / (TOTAL_STEPS / EPOCHS));
  const report =
    `Step ${step} of ${TOTAL_STEPS}: loss ${round4(loss(step))}, lr ${LR}, epoch ${epoch}/${EPOCHS}, ` +
    `ema_decay_value None, train_loss ${round4(loss(step) * 1.04)}`;
  // The Cog runner prints a notification as `title: message`, the title being the message's first line.
  return [
    { at: at + 0.001, text: `[INFO] Checkpoint: \`${report}\`: Checkpoint: \`${report}\`` },
    { at: at + 0.002, text: `[STAGE] ⏳ Saving Checkpoint: Saving checkpoint to ${out}/checkpoint-${step}` },
    { at: at + 0.004, text: `[STAGE] ✓ Saving Checkpoint: Saved checkpoint to ${out}/checkpoint-${step}` },
    { at: at + 0.004, text: '[CHECKPOINT] Checkpoint saved' },
  ];
}

function finalLines(out: string): Line[] {
  return [
    { at: 0.86, text: `[STAGE] ⏳ Saving Final Model: Finalizing model and saving to ${out}` },
    { at: 0.88, text: '[STAGE] ⏳ Running Final Validations: Generating final validation images...' },
    { at: 0.93, text: '[STAGE] ✓ Running Final Validations: Final validation images completed' },
    { at: 0.96, text: `[STAGE] ✓ Saving Final Model: Model saved to ${out}` },
    { at: 0.98, text: '[STAGE] ✓ Training Complete (100.0%): Training run complete.' },
    { at: 0.98, text: '[COG] Webhook receiver stopped' },
    { at: 0.99, text: '' },
    { at: 0.99, text: `Training complete. Output: ${out}` },
  ];
}

/** tqdm's bar as SimpleTuner sets it up (`Epoch E/N, Steps` description; `lr` and `step_loss`, keys sorted). */
function bar(step: number, loss: number, elapsedSeconds: number): string {
  const epoch = Math.min(EPOCHS, Math.floor((step - 1) / (TOTAL_STEPS / EPOCHS)) + 1);
  const done = step / TOTAL_STEPS;
  const perSecond = elapsedSeconds > 0 ? step / elapsedSeconds : 0;
  const remaining = perSecond > 0 ? (TOTAL_STEPS - step) / perSecond : 0;
  const rate = perSecond >= 1 || perSecond === 0 ? `${fixed5(perSecond)}it/s` : `${fixed5(1 / perSecond)}s/it`;
  const pct = String(Math.round(done * 100)).padStart(3);
  const meter = `${step}/${TOTAL_STEPS} [${clock(elapsedSeconds)}<${clock(remaining)}, ${rate}`;
  return `Epoch ${epoch}/${EPOCHS}, Steps: ${pct}%|${blocks(done)}| ${meter}, lr=${LR}, step_loss=${g3(loss)}]`;
}

/** tqdm's ten-cell bar with eighth blocks. */
function blocks(done: number): string {
  const cells = done * 10;
  const full = Math.floor(cells);
  const eighths = Math.floor((cells - full) * 8);
  const partial = full < 10 && eighths > 0 ? ' ▏▎▍▌▋▊▉'[eighths] : '';
  return ('█'.repeat(full) + partial).padEnd(10);
}

/** tqdm's `format_interval`: `mm:ss`, or `h:mm:ss` from an hour on. */
function clock(seconds: number): string {
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** Python's `{:5.2f}`. */
function fixed5(n: number): string {
  return n.toFixed(2).padStart(5);
}

/** Python's `{:.3g}`, as tqdm formats postfix numbers. */
function g3(n: number): string {
  return String(Number(n.toPrecision(3)));
}

function round4(n: number): number {
  return Math.round(n * 10000) / 10000;
}

/** A falling, slightly noisy loss, the same for every poll of one prediction. */
function lossCurve(id: string): (step: number) => number {
  let seed = 0;
  for (let i = 0; i < id.length; i++) seed = (Math.imul(seed, 31) + id.charCodeAt(i)) >>> 0;
  return (step) => {
    const noise = (((Math.imul(seed ^ step, 2654435761) >>> 0) % 1000) / 1000 - 0.5) * 0.03;
    return 0.06 + 0.24 * Math.exp(-step / 70) + noise;
  };
}
