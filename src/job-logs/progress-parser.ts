import type { JobProgress, ProgressStage } from '../common/job-progress';

/**
 * Reads SimpleTuner's progress out of log text. Formats, as the trainer and its Replicate (Cog) runner print them:
 * - the training bar, drawn by tqdm: `Epoch 3/10, Steps:  12%|█▏   | 120/1000 [01:23<10:12,  1.44it/s, lr=0.0001,
 *   step_loss=0.123]` (elapsed and remaining as `mm:ss` or `h:mm:ss`, `?` before the first step, the rate as `it/s`
 *   or, when slower than one step a second, `s/it`). tqdm redraws it after a carriage return, so `\r` ends a line
 *   as `\n` does. Other tqdm bars (`Processing prompts`, `Loading checkpoint shards`…) only tell the stage;
 * - the Cog runner's event lines: `[STAGE] ⏳ Saving Checkpoint: …`, `[TRAINING] Step 5/10 (50.0%) …`,
 *   `[TRAINING] Status: uploading_model`, `[CHECKPOINT] …`, `[INFO] Checkpoint: \`Step 50 of 200: loss …, epoch
 *   1/4, …\``;
 * - Python log lines, `[RANK 0] 2025-11-30 21:54:58,659 [INFO] (logger) message` (each prefix optional): the
 *   `***** Running training *****` block (totals), `Step S of T: loss L, lr X, epoch E/N`, `Epoch N/M`, and the
 *   messages that open a stage.
 *
 * Cost is linear in the text: lines are cut with indexOf, every pattern is anchored and free of nested quantifiers,
 * and a line longer than MAX_LINE (no progress line is) is skipped unread.
 */

type Fields = Omit<JobProgress, 'updated_at'>;

const MAX_LINE = 4096;

const EMPTY: Fields = {
  stage: null,
  step: null,
  total_steps: null,
  percent: null,
  epoch: null,
  total_epochs: null,
  steps_per_second: null,
  eta_seconds: null,
  loss: null,
};

/**
 * The progress after `text` (newly appended log text) given the `previous` progress, whose fields persist until
 * the text tells otherwise. Pure. Returns `previous` itself when the text holds nothing it reads (null when there
 * was none); otherwise a new object without `updated_at`, which the caller stamps.
 *
 * A line is read when a line end follows it. The text's last, unterminated piece is read only if it is a whole
 * tqdm bar (tqdm leaves its latest draw unterminated until the next `\r`); any other cut line is skipped, since its
 * start alone could mislead (`Epoch 3/1…` of `Epoch 3/10`), and its rest, starting mid-line, matches nothing. A
 * caller that wants such a line read passes the text again from that line's start with the next chunk: reading a
 * line twice changes nothing (every field a line sets, it sets outright).
 */
export function parseProgress(text: string, previous: JobProgress | null): JobProgress | null {
  const state: Fields = previous ? pickFields(previous) : { ...EMPTY };
  let found = false;
  // The next `\n` and `\r` at or after `start` (text.length: none), each searched again only once passed.
  let lf = -1;
  let cr = -1;
  for (let start = 0; start < text.length;) {
    if (lf < start) lf = indexOrEnd(text, '\n', start);
    if (cr < start) cr = indexOrEnd(text, '\r', start);
    const end = Math.min(lf, cr);
    if (end - start > 0 && end - start <= MAX_LINE && readLine(state, text.slice(start, end), end < text.length)) {
      found = true;
    }
    start = end + 1;
  }
  return found ? finish(state) : previous;
}

function indexOrEnd(text: string, char: string, from: number): number {
  const at = text.indexOf(char, from);
  return at < 0 ? text.length : at;
}

function pickFields(p: JobProgress): Fields {
  return {
    stage: p.stage,
    step: p.step,
    total_steps: p.total_steps,
    percent: p.percent,
    epoch: p.epoch,
    total_epochs: p.total_epochs,
    steps_per_second: p.steps_per_second,
    eta_seconds: p.eta_seconds,
    loss: p.loss,
  };
}

function finish(state: Fields): Fields {
  if (state.step !== null && state.total_steps !== null && state.total_steps > 0) {
    state.percent = Math.round((Math.min(state.step, state.total_steps) / state.total_steps) * 1000) / 10;
  }
  if (state.stage === 'completed') {
    state.percent = 100;
    state.eta_seconds = 0;
  }
  return state;
}

/** Once completed, the stage stays (see `completed` in common/job-progress.ts). */
function setStage(state: Fields, stage: ProgressStage | null): void {
  if (stage !== null && state.stage !== 'completed') state.stage = stage;
}

// Colours, should a runner leave them on (SimpleTuner's Cog runner turns them off).
// eslint-disable-next-line no-control-regex -- the escape character is what is matched
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

function readLine(state: Fields, raw: string, complete: boolean): boolean {
  const line = (raw.includes('\x1b') ? raw.replace(ANSI, '') : raw).trimEnd();
  if (!complete && !line.endsWith(']')) return false;
  const barAt = line.indexOf('%|');
  if (barAt >= 0) return readBar(state, line, barAt);
  return complete && readMessage(state, line);
}

// ---------------------------------------------------------------------------------------------------------------
// tqdm bars

/** After the bar's closing `|`: ` 120/1000 [01:23<10:12,  1.44it/s, lr=0.0001, step_loss=0.123]`. */
const METER =
  /^ *(\d{1,12})\/(\d{1,12}) \[(\d{1,9}(?::\d\d){1,2})<(\d{1,9}(?::\d\d){1,2}|\?), *(\?|\d{1,12}(?:\.\d{1,12})?)(it\/s|s\/it)(.*)\]$/;
const EPOCH_DESC = /^Epoch (\d{1,9})\/(\d{1,9})\b/;

function readBar(state: Fields, line: string, barAt: number): boolean {
  let pctStart = barAt;
  while (pctStart > 0 && pctStart > barAt - 3 && isDigit(line.charCodeAt(pctStart - 1))) pctStart--;
  if (pctStart === barAt) return false;
  const desc = line.slice(0, pctStart).trim().replace(/:$/, '');
  const close = line.indexOf('|', barAt + 2);
  if (close < 0) return false;
  const meter = METER.exec(line.slice(close + 1));
  if (!meter) return false;
  if (!desc.endsWith('Steps')) {
    const stage = stageOfBar(desc);
    setStage(state, stage);
    return stage !== null;
  }
  setStage(state, 'training');
  const epoch = EPOCH_DESC.exec(desc);
  if (epoch) {
    state.epoch = Number(epoch[1]);
    state.total_epochs = Number(epoch[2]);
  }
  state.step = Number(meter[1]);
  state.total_steps = Number(meter[2]);
  state.eta_seconds = meter[4] === '?' ? null : clockSeconds(meter[4]);
  state.steps_per_second = rate(meter[5], meter[6]);
  const loss = postfixLoss(meter[7]);
  if (loss !== null) state.loss = loss;
  return true;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** `mm:ss` or `h:mm:ss` (tqdm lets the hours grow past 24). */
function clockSeconds(clock: string): number {
  return clock.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

function rate(value: string, unit: string): number | null {
  const n = Number(value);
  if (value === '?' || !Number.isFinite(n) || n <= 0) return null;
  return Number((unit === 's/it' ? 1 / n : n).toPrecision(4));
}

/** `, lr=1.5e-6, step_loss=0.157` (tqdm's set_postfix, keys sorted): the step loss, or a plain `loss`. */
function postfixLoss(postfix: string): number | null {
  let loss: number | null = null;
  for (const pair of postfix.split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const key = pair.slice(0, eq).trim();
    const value = Number(pair.slice(eq + 1).trim());
    if (!Number.isFinite(value)) continue;
    if (key === 'step_loss') return value;
    if (key === 'loss') loss = value;
  }
  return loss;
}

/** Bars besides the training bar, by words of their description (lower case); first match wins. */
const BAR_STAGES: [string, ProgressStage][] = [
  ['validation loss', 'validating'],
  ['validation prompts', 'validating'],
  ['evaluating', 'validating'],
  ['embed', 'caching'],
  ['prompts', 'caching'],
  ['bucket', 'caching'],
  ['cache', 'caching'],
  ['caption', 'caching'],
  ['metadata', 'caching'],
  ['checkpoint shards', 'loading_model'],
  ['loading', 'loading_model'],
  ['fetching', 'loading_model'],
];

function stageOfBar(desc: string): ProgressStage | null {
  const lower = desc.toLowerCase();
  for (const [words, stage] of BAR_STAGES) if (lower.includes(words)) return stage;
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Event and log lines

/** `[RANK 0] `, `2025-11-30 21:54:58,659 `, `[INFO] `, `(logger) ` or `(id=backend) `: each optional. */
const LOG_PREFIX =
  /^(?:\[RANK \d{1,4}\] )?(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} )?(?:\[(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\] )?(?:\([^()\s]{1,160}\) )?/;
const TRAINING_STEP = /^Step (\d{1,12})\/(\d{1,12}) /;
const STEP_REPORT = /^Step (\d{1,12}) of (\d{1,12}): loss ([-+.e\d]{1,30}), lr [^,]{0,40}, epoch (\d{1,9})\/(\d{1,9})/;
const EPOCH_DONE = /^Epoch (\d{1,9}) completed at step (\d{1,12})/;
const EPOCH_LINE = /^Epoch (\d{1,9})\/(\d{1,9})\b/;
const TOTALS: [RegExp, 'total_steps' | 'total_epochs' | 'epoch' | 'step'][] = [
  [/^- {2}Total optimization steps = (\d{1,12})$/, 'total_steps'],
  [/^- {2}Num Epochs = (\d{1,9})$/, 'total_epochs'],
  [/^ {2}- Current Epoch = (\d{1,9})$/, 'epoch'],
  [/^ {2}- Steps completed: (\d{1,12})$/, 'step'],
];

function readMessage(state: Fields, line: string): boolean {
  if (line.startsWith('[STAGE] ')) return readStageEvent(state, line.slice(8));
  if (line.startsWith('[TRAINING] ')) return readTrainingEvent(state, line.slice(11));
  if (line.startsWith('[CHECKPOINT] ')) {
    setStage(state, 'saving_checkpoint');
    return true;
  }
  const message = line.slice(LOG_PREFIX.exec(line)?.[0].length ?? 0);
  if (message.startsWith('Checkpoint: `')) {
    setStage(state, 'saving_checkpoint');
    readStepReport(state, message.slice(13));
    return true;
  }
  if (readStepReport(state, message) || readTotals(state, message)) return true;
  const epoch = EPOCH_LINE.exec(message);
  if (epoch) {
    state.epoch = Number(epoch[1]);
    state.total_epochs = Number(epoch[2]);
    return true;
  }
  const stage = stageOfMessage(message);
  setStage(state, stage);
  return stage !== null;
}

/** `⏳ Saving Checkpoint (12.0%): message`: the label names the stage; a failed (`✗`) stage changes nothing. */
function readStageEvent(state: Fields, rest: string): boolean {
  const space = rest.indexOf(' ');
  if (space < 0 || rest.startsWith('✗')) return false;
  const body = rest.slice(space + 1);
  const ends = [body.indexOf(' ('), body.indexOf(':')].filter((i) => i >= 0);
  const label = ends.length > 0 ? body.slice(0, Math.min(...ends)) : body;
  const stage = stageOfLabel(label);
  setStage(state, stage);
  return stage !== null;
}

function readTrainingEvent(state: Fields, rest: string): boolean {
  if (rest.startsWith('Status: uploading')) {
    setStage(state, 'uploading');
    return true;
  }
  const m = TRAINING_STEP.exec(rest);
  if (!m) return false;
  state.step = Number(m[1]);
  state.total_steps = Number(m[2]);
  return true;
}

/** `Step 50 of 200: loss 0.1843, lr 0.0001, epoch 1/4, …` or `Epoch 2 completed at step 100`. */
function readStepReport(state: Fields, message: string): boolean {
  const m = STEP_REPORT.exec(message);
  if (m) {
    state.step = Number(m[1]);
    state.total_steps = Number(m[2]);
    const loss = Number(m[3]);
    if (Number.isFinite(loss)) state.loss = loss;
    state.epoch = Number(m[4]);
    state.total_epochs = Number(m[5]);
    return true;
  }
  const done = EPOCH_DONE.exec(message);
  if (!done) return false;
  state.epoch = Number(done[1]);
  state.step = Number(done[2]);
  return true;
}

/** The `***** Running training *****` block. */
function readTotals(state: Fields, message: string): boolean {
  if (message === '***** Running training *****') {
    setStage(state, 'training');
    return true;
  }
  for (const [pattern, field] of TOTALS) {
    const m = pattern.exec(message);
    if (m) {
      state[field] = Number(m[1]);
      return true;
    }
  }
  return false;
}

/** A `[STAGE]` label (lower-cased words), first match wins: `Resume Checkpoint` loads, `Saving Checkpoint` saves. */
const LABEL_STAGES: [string, ProgressStage][] = [
  ['training complete', 'completed'],
  ['resum', 'loading_model'],
  ['validation', 'validating'],
  ['benchmark', 'validating'],
  ['saving', 'saving_checkpoint'],
  ['checkpoint', 'saving_checkpoint'],
  ['upload', 'uploading'],
  ['cach', 'caching'],
  ['data backend', 'caching'],
  ['caption', 'caching'],
  ['embed', 'caching'],
  ['load', 'loading_model'],
  ['model components', 'loading_model'],
];

function stageOfLabel(label: string): ProgressStage | null {
  const lower = label.toLowerCase();
  for (const [words, stage] of LABEL_STAGES) if (lower.includes(words)) return stage;
  return null;
}

/** Log messages that open a stage, by how they begin. */
const MESSAGE_STAGES: [string, ProgressStage][] = [
  ['Training run complete', 'completed'],
  ['Loading model: ', 'loading_model'],
  ['Load tokenizers', 'loading_model'],
  ['Load text encoder', 'loading_model'],
  ['Load VAE', 'loading_model'],
  ['Loading our accelerator', 'loading_model'],
  ['Configuring data backends', 'caching'],
  ['Pre-computing text embeds', 'caching'],
  ['Creating VAE latent cache', 'caching'],
  ['Executing VAE cache update', 'caching'],
  ['Rebuilding VAE cache', 'caching'],
  ['Validations are generating', 'validating'],
  ['Running startup validation', 'validating'],
  ['Saving checkpoint to ', 'saving_checkpoint'],
  ['Scheduled background Hugging Face upload', 'uploading'],
];

function stageOfMessage(message: string): ProgressStage | null {
  for (const [start, stage] of MESSAGE_STAGES) if (message.startsWith(start)) return stage;
  if (message.startsWith('Uploading ') && message.includes('Hugging Face Hub')) return 'uploading';
  return null;
}
