import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROGRESS_STAGES, type JobProgress } from '../../src/common/job-progress';
import { parseProgress } from '../../src/job-logs/progress-parser';

// Real SimpleTuner output and where each excerpt comes from: test/fixtures/simpletuner-logs/README.md.
const fixture = (name: string): string => readFileSync(join(__dirname, '../fixtures/simpletuner-logs', name), 'utf8');

/**
 * Feeds the text in pieces of `size` characters, as appended log chunks arrive. With `carry`, each call also gets
 * again the unterminated end of what came before (what a caller does to have lines cut by a chunk read whole);
 * without, a cut line is lost.
 */
function feed(text: string, size: number, carry: boolean): JobProgress[] {
  const seen: JobProgress[] = [];
  let progress: JobProgress | null = null;
  let tail = '';
  for (let i = 0; i < text.length; i += size) {
    const chunk = (carry ? tail : '') + text.slice(i, i + size);
    progress = parseProgress(chunk, progress);
    if (progress) seen.push(progress);
    tail = chunk.slice(Math.max(chunk.lastIndexOf('\n'), chunk.lastIndexOf('\r')) + 1);
  }
  return seen;
}

/** The stages met line by line, repeats folded. */
function stagesOf(text: string): (string | null)[] {
  const stages: (string | null)[] = [];
  let progress: JobProgress | null = null;
  for (const line of text.split('\n')) {
    progress = parseProgress(`${line}\n`, progress);
    if (progress && stages[stages.length - 1] !== progress.stage) stages.push(progress.stage);
  }
  return stages;
}

describe('parseProgress: the training bar as tqdm draws it (\\r-separated redraws)', () => {
  const bar = fixture('tqdm-training-bar.log');

  it('reads the last draw: steps, epoch, rate from the s/it form, loss', () => {
    expect(parseProgress(bar, null)).toEqual({
      stage: 'training',
      step: 60,
      total_steps: 60,
      percent: 100,
      epoch: 3,
      total_epochs: 3,
      steps_per_second: 0.01327, // 75.35 s/it
      eta_seconds: 0,
      loss: 0.0789,
    });
  });

  it('reads the first draw, whose rate and remaining time are `?`', () => {
    const first = bar.slice(0, bar.indexOf('\r', 1));
    expect(parseProgress(first, null)).toEqual({
      stage: 'training',
      step: 0,
      total_steps: 60,
      percent: 0,
      epoch: 1,
      total_epochs: 3,
      steps_per_second: null,
      eta_seconds: null,
      loss: null,
    });
  });

  it('reads an unterminated last draw: it/s, then s/it with h:mm:ss elapsed', () => {
    const upTo = (needle: string): string => bar.slice(0, bar.indexOf(needle) + needle.length);
    expect(parseProgress(upTo('30/60 [00:21<00:21,  1.43it/s, lr=0.0001, step_loss=0.157]'), null)).toMatchObject({
      step: 30,
      percent: 50,
      epoch: 2,
      steps_per_second: 1.43,
      eta_seconds: 21,
      loss: 0.157,
    });
    expect(parseProgress(upTo('57/60 [1:07:51<07:29, 149.99s/it, lr=1.5e-6, step_loss=0.0762]'), null)).toMatchObject({
      step: 57,
      percent: 95,
      epoch: 3,
      steps_per_second: 0.006667,
      eta_seconds: 449,
      loss: 0.0762,
    });
  });

  it('fed in chunks with the cut line carried over: the same result, and the step never goes back', () => {
    const whole = parseProgress(bar, null);
    for (const size of [1, 7, 97, 1000]) {
      const seen = feed(bar, size, true);
      expect(seen[seen.length - 1]).toEqual(whole);
      const steps = seen.map((p) => p.step ?? 0);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
    }
  });

  it('fed in chunks without carrying: cut lines are lost, never misread', () => {
    for (const size of [7, 97, 1000]) {
      const seen = feed(bar, size, false);
      const steps = seen.map((p) => p.step ?? 0);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
      for (const p of seen) {
        expect(p).toMatchObject({ stage: 'training', total_steps: 60, total_epochs: 3 });
        expect(p.epoch).toBe(p.step ? Math.ceil(p.step / 20) : 1); // 20 steps an epoch
      }
    }
  });

  it('skips a cut line it could misread, and reads the ASCII bar of a non-UTF-8 stream', () => {
    expect(parseProgress('Epoch 3/1', null)).toBeNull();
    expect(parseProgress('Epoch 1/3, Steps:   5%|5         | 3/60 [00:02<00:39,  1.4', null)).toBeNull();
    expect(
      parseProgress(
        '\rEpoch 1/3, Steps:   5%|5         | 3/60 [00:02<00:39,  1.43it/s, lr=0.0001, step_loss=0.322]',
        null,
      ),
    ).toMatchObject({ step: 3, total_steps: 60, percent: 5, loss: 0.322 });
  });
});

describe('parseProgress: captured SimpleTuner logs', () => {
  it('reads the training block, then bars across an epoch change (issue #509)', () => {
    const text = fixture('issue-509-training-bars.log');
    const block = text.slice(0, text.indexOf('Epoch 11/100'));
    expect(parseProgress(block, null)).toEqual({
      stage: 'training',
      step: null,
      total_steps: 22900,
      percent: null,
      epoch: 3,
      total_epochs: 100,
      steps_per_second: null,
      eta_seconds: null,
      loss: null,
    });
    expect(parseProgress(text, null)).toEqual({
      stage: 'training',
      step: 5280,
      total_steps: 22900,
      percent: 23.1,
      epoch: 12,
      total_epochs: 100,
      steps_per_second: 0.1332, // 7.51 s/it
      eta_seconds: 36 * 3600 + 44 * 60 + 21,
      loss: 0.0903,
    });
  });

  it('reads model loading, then caching (plain, [RANK n] and (id=…) prefixed lines, prompt bars)', () => {
    const text = fixture('caching-and-loading.log');
    expect(stagesOf(text)).toEqual(['loading_model', 'caching']);
    const lines = text.split('\n');
    expect(parseProgress(`${lines.slice(0, 3).join('\n')}\n`, null)?.stage).toBe('loading_model');
    expect(parseProgress(`${lines[3]}\n`, null)?.stage).toBe('caching'); // a `Processing prompts` bar
    expect(parseProgress(`${lines[7]}\n`, null)?.stage).toBe('caching'); // [RANK 0] … (id=…) Creating VAE latent cache
    expect(parseProgress(text, null)).toMatchObject({ stage: 'caching', step: null, total_steps: null, loss: null });
  });
});

describe('parseProgress: a Replicate (Cog) run', () => {
  const text = fixture('cog-webhook-events.log');

  it('follows the stages in order and ends completed, whatever the log tail says after', () => {
    expect(stagesOf(text)).toEqual([
      'loading_model', // Loading base model
      'caching', // data backends, VAE cache, text embeds
      'loading_model', // Preparing model components, Resume Checkpoint
      'training', // ***** Running training *****, bars
      'saving_checkpoint', // Checkpoint: `Step 50 of 200 …`, Saving Checkpoint, [CHECKPOINT]
      'uploading', // [TRAINING] Status: uploading_model
      'training',
      'validating', // Running Validation
      'training',
      'saving_checkpoint', // Saving Final Model
      'validating', // Running Final Validations
      'saving_checkpoint', // ✓ Saving Final Model
      'completed', // the debug.log tail's "Scheduled background Hugging Face upload" does not reopen a stage
    ]);
    expect(parseProgress(text, null)).toEqual({
      stage: 'completed',
      step: 200,
      total_steps: 200,
      percent: 100,
      epoch: 4,
      total_epochs: 4,
      steps_per_second: 1.18,
      eta_seconds: 0,
      loss: 0.0612,
    });
  });

  it('takes step, loss and epoch from the checkpoint notification', () => {
    const line = text.split('\n').find((l) => l.startsWith('[INFO] Checkpoint:'));
    expect(parseProgress(`${line}\n`, null)).toMatchObject({
      stage: 'saving_checkpoint',
      step: 50,
      total_steps: 200,
      percent: 25,
      epoch: 1,
      total_epochs: 4,
      loss: 0.1843,
    });
  });
});

describe('parseProgress: its contract', () => {
  const training = parseProgress(
    'Epoch 2/4, Steps:  50%|█████     | 100/200 [01:24<01:22,  1.21it/s, lr=0.0001, step_loss=0.127]\n',
    null,
  )!;

  it('keeps the previous fields the new text does not mention', () => {
    expect(parseProgress('[STAGE] ⏳ Running Validation: Validation is starting.\n', training)).toEqual({
      ...training,
      stage: 'validating',
    });
  });

  it('returns the previous progress itself when the text says nothing, null when there was none', () => {
    const stamped: JobProgress = { ...training, updated_at: '2026-01-01T00:00:00.000Z' };
    expect(parseProgress('[RANK 0] 2025-11-30 21:54:58,832 [INFO] Configured backend: {}\n', stamped)).toBe(stamped);
    expect(parseProgress('', null)).toBeNull();
    expect(parseProgress('\n\r\n', null)).toBeNull();
  });

  it('leaves updated_at to the caller (it reads no clock)', () => {
    const stamped: JobProgress = { ...training, updated_at: '2026-01-01T00:00:00.000Z' };
    const next = parseProgress('[STAGE] ⏳ Saving Checkpoint: Saving checkpoint to out/checkpoint-100\n', stamped);
    expect(next).not.toHaveProperty('updated_at');
    expect(next?.stage).toBe('saving_checkpoint');
  });

  it('ignores colour codes and a failed stage', () => {
    expect(
      parseProgress('\x1b[32m[RANK 0] 2025-11-30 21:54:58,821 [INFO] Executing VAE cache update..\x1b[0m\n', null)
        ?.stage,
    ).toBe('caching');
    expect(parseProgress('[STAGE] ✗ Saving Checkpoint: disk full\n', training)).toBe(training);
  });
});

describe('parseProgress: volume', () => {
  /** A training bar of step `n` of `total`, as SimpleTuner's trainer draws it. */
  const barLine = (n: number, total: number): string =>
    `Epoch ${Math.floor(n / 100) + 1}/${Math.ceil(total / 100)}, Steps: ${String(Math.round((n / total) * 100)).padStart(3)}%|` +
    `█████     | ${n}/${total} [01:23<10:12,  1.44it/s, lr=0.0001, step_loss=${(n / 10000).toFixed(4)}]`;

  it('reads 1,000 lines mixing bars, stage events and noise', () => {
    const lines: string[] = [];
    for (let n = 1; n <= 1000; n++) {
      if (n % 100 === 0) lines.push('[STAGE] ⏳ Saving Checkpoint: Saving checkpoint to out/checkpoint');
      else if (n % 10 === 0) lines.push(`[RANK 0] 2025-11-30 21:54:58,832 [INFO] (id=subject) noise line ${n}`);
      else lines.push(barLine(n, 1000));
    }
    expect(lines).toHaveLength(1000);
    expect(parseProgress(`${lines.join('\n')}\n`, null)).toMatchObject({
      stage: 'saving_checkpoint',
      step: 999,
      total_steps: 1000,
      percent: 99.9,
      epoch: 10,
      total_epochs: 10,
      loss: 0.0999,
    });
  });

  it('reads a 1 MB chunk of \\r-separated redraws between long log lines', () => {
    const total = 100000;
    const parts: string[] = [];
    let size = 0;
    let n = 0;
    while (size < 1024 * 1024) {
      n++;
      const part =
        n % 50 === 0
          ? `\n[RANK 0] 2025-11-30 [INFO] Configured backend: ${'x'.repeat(900)}\n`
          : `\r${barLine(n, total)}`;
      parts.push(part);
      size += part.length;
    }
    const text = parts.join('');
    expect(text.length).toBeGreaterThanOrEqual(1024 * 1024);
    const last = n % 50 === 0 ? n - 1 : n;
    expect(parseProgress(text, null)).toMatchObject({ stage: 'training', step: last, total_steps: total });
  });

  it('reads past 1 MB built to make a backtracking pattern stall', () => {
    const nearMisses = [
      `Steps: 1%| | 1/2 [${'0:'.repeat(1500)}\n`, // an elapsed time that never closes
      `Steps: 1%|${'%|'.repeat(1500)}\n`, // bar markers without a meter
      `[RANK 0] ${'[INFO] '.repeat(500)}\n`, // prefixes that repeat
      `Step 1 of 2: loss ${'1'.repeat(2000)}\n`,
      `${'9'.repeat(3000)}%|\n`,
    ];
    let text = '';
    while (text.length < 1024 * 1024) text += nearMisses.join('');
    text += `${'y'.repeat(300000)}%| one line longer than any progress line\n`;
    expect(parseProgress(text, null)).toBeNull();
    expect(PROGRESS_STAGES).toContain(parseProgress(`${text}[CHECKPOINT] Checkpoint saved\n`, null)?.stage);
  });
});
