import type { Readable } from 'node:stream';

/** The per-test log buffer of test/support/quiet-logs-environment.js (jest.config.js `testEnvironment`). */
export interface TestLogSink {
  /** false with TEST_LOGS=1: output is printed as it comes. */
  capturing: boolean;
  write(text: string): void;
}

const SINK = Symbol.for('simpletuner.test-logs');

/** Outside that environment (another runner, a bench) output goes to stdout as usual. */
const passThrough: TestLogSink = { capturing: false, write: (text) => void process.stdout.write(text) };

export function testLogs(): TestLogSink {
  return (globalThis as Record<symbol, TestLogSink | undefined>)[SINK] ?? passThrough;
}

/** Writes a process's output into the current test's log, each line prefixed with `label`. */
export function logOutput(label: string, text: string): void {
  if (!text) return;
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  testLogs().write(
    body
      .split('\n')
      .map((l) => `${label} ${l}\n`)
      .join(''),
  );
}

/**
 * Feeds a child process's stream into the current test's log line by line (see logOutput), so its output shows
 * next to a failure like the in-process app's lines. The caller keeps reading the stream too.
 */
export function captureOutput(stream: Readable, label: string): void {
  let pending = '';
  stream.on('data', (chunk: Buffer | string) => {
    pending += chunk.toString();
    const end = pending.lastIndexOf('\n');
    if (end < 0) return;
    logOutput(label, pending.slice(0, end + 1));
    pending = pending.slice(end + 1);
  });
  stream.on('end', () => {
    logOutput(label, pending);
    pending = '';
  });
}
