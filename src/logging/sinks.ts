import * as fs from 'node:fs';
import SonicBoom from 'sonic-boom';

/**
 * Where formatted lines go: stdout and, with SIMPLETUNER_LOG_FILE, the file too. Each line is written with one
 * write() of the whole string, so a rotation (reopen) falls between lines, never inside one.
 */
let stdoutSink: SonicBoom | null = null;
let stdoutEnabled = true;
let fileSink: SonicBoom | null = null;
let filePath: string | null = null;
let stdoutWriter: ((line: string) => void) | null = null;

function stdout(): SonicBoom {
  // Synchronous like pino's default stdout: nothing is lost when the process exits right after a line.
  stdoutSink ??= new SonicBoom({ fd: 1, sync: true });
  return stdoutSink;
}

/**
 * Lines that arrive while the file sink is busy (opening, or a write in flight) are joined here into chunks of about
 * CHUNK characters and handed to sonic-boom whole. Handed one by one, each write() would make sonic-boom measure the
 * byte length of its whole last queued chunk (up to 16 KB, flattened and scanned per line): in a burst that was the
 * largest single cost of a line. A partial chunk is handed over on the next turn of the event loop, or at once by a
 * flush, a switch, a reopen or the exit hook, so lines keep their order and none waits longer than one turn.
 */
const CHUNK = 16 * 1024;
let pending = '';
let handOverScheduled = false;

function sinkBusy(sink: SonicBoom): boolean {
  const s = sink as unknown as { _writing: boolean; _len: number };
  return s._writing || s._len > 0;
}

function writeFileLine(sink: SonicBoom, line: string): void {
  if (pending === '' && !sinkBusy(sink)) {
    sink.write(line);
    return;
  }
  pending += line;
  if (pending.length >= CHUNK) handOver();
  else if (!handOverScheduled) {
    handOverScheduled = true;
    setImmediate(scheduledHandOver);
  }
}

function scheduledHandOver(): void {
  handOverScheduled = false;
  handOver();
}

/** Gives the gathered lines to the file sink (they belong to the file open when they were written). */
function handOver(): void {
  if (pending === '') return;
  const chunk = pending;
  pending = '';
  fileSink?.write(chunk);
}

export function writeLine(line: string): void {
  if (stdoutEnabled) {
    if (stdoutWriter) stdoutWriter(line);
    else stdout().write(line);
  }
  if (fileSink) writeFileLine(fileSink, line);
}

/**
 * Test hook: lines meant for stdout go to `writer` instead (the test runner keeps them per test and prints them
 * only for a failing one); null sends them to stdout again. The log file, when set, still gets every line.
 */
export function redirectStdoutLines(writer: ((line: string) => void) | null): void {
  stdoutWriter = writer;
}

export function setStdoutEnabled(enabled: boolean): void {
  stdoutEnabled = enabled;
}

export function currentLogFile(): string | null {
  return filePath;
}

/** Opens (or switches to) the log file; the folder is created. null closes it. */
export function setLogFile(file: string | null | undefined): void {
  const next = file ? file : null;
  if (next === filePath) return;
  handOver();
  const previous = fileSink;
  fileSink = null;
  filePath = next;
  if (previous) closeSink(previous);
  if (next) {
    // Async with minLength 0: a line is handed to the kernel as soon as the previous write returns.
    fileSink = new SonicBoom({ dest: next, mkdir: true, append: true, sync: false, minLength: 0 });
    fileSink.on('error', (err) => process.stderr.write(`log file ${next}: ${String(err)}\n`));
  }
}

const fdOf = (sink: SonicBoom): number => (sink as unknown as { fd: number }).fd;

function closeSink(sink: SonicBoom): void {
  const end = () => {
    try {
      sink.end();
    } catch {
      // already closed
    }
  };
  if (fdOf(sink) < 0) sink.once('ready', end);
  else end();
}

/** Re-opens the file at its path (after a rename by the rotation); resolves once new lines go to the new file. */
export function reopenLogFile(): Promise<void> {
  const sink = fileSink;
  if (!sink) return Promise.resolve();
  handOver();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      sink.off('error', onError);
      resolve();
    };
    const onError = (err: Error) => {
      sink.off('ready', onReady);
      reject(err);
    };
    sink.once('ready', onReady);
    sink.once('error', onError);
    sink.reopen();
  });
}

/** Waits until every line written so far is in the file (tests, rotation, shutdown). */
export function flushLogs(): Promise<void> {
  const sink = fileSink;
  if (!sink) return Promise.resolve();
  handOver();
  // sonic-boom's flush(cb) answers at once with minLength 0; wait for its buffer to empty instead.
  const state = sink as unknown as { _writing: boolean; _len: number; destroyed: boolean };
  return new Promise((resolve) => {
    const check = () => {
      if (state.destroyed || (!state._writing && state._len === 0)) resolve();
      else sink.once(fdOf(sink) < 0 ? 'ready' : 'drain', check);
    };
    check();
  });
}

/**
 * Flushes and closes the log file if it is still `file` (the app that opened it is closing); resolves once its
 * descriptor is closed. Later lines go to stdout only.
 */
export async function closeLogFile(file: string | null | undefined): Promise<void> {
  const sink = fileSink;
  if (!file || file !== filePath || !sink) return;
  await flushLogs();
  if (fileSink !== sink) return; // switched meanwhile: the switch closed it
  const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()));
  setLogFile(null);
  await closed;
}

/**
 * On exit nothing asynchronous runs any more: push buffered file lines synchronously. Gathered lines join the queue
 * behind a write in flight; to an idle sink they are written here directly, since handing them over would start an
 * asynchronous write that never finishes.
 */
export function flushLogsSync(): void {
  const sink = fileSink;
  if (!sink || fdOf(sink) < 0) return;
  try {
    if ((sink as unknown as { _writing: boolean })._writing) handOver();
    sink.flushSync();
    if (pending !== '') {
      fs.writeSync(fdOf(sink), pending);
      pending = '';
    }
  } catch {
    // a write is in flight or the file is gone: nothing more can be done at exit
  }
}

export function logFileSize(): number {
  if (!filePath) return 0;
  try {
    return fs.statSync(filePath).size;
  } catch {
    return 0;
  }
}
