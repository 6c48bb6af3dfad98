// @ts-check
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

/** Where test code finds the sink (test/support/test-logs.ts); a registered symbol crosses the vm boundary. */
const SINK = Symbol.for('simpletuner.test-logs');
/** A runaway test must not eat the worker's memory: older lines beyond this are dropped (and counted). */
const MAX_LINES = 20000;

class LineBuffer {
  constructor() {
    /** @type {string[]} */
    this.lines = [];
    this.dropped = 0;
  }

  /** @param {string} line */
  push(line) {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.dropped += this.lines.splice(0, this.lines.length - MAX_LINES).length;
  }

  get empty() {
    return this.lines.length === 0 && this.dropped === 0;
  }
}

/**
 * Node environment that keeps the app's log lines (and spawned processes' output) per test in memory and prints
 * them only for a test that fails, or as they come with TEST_LOGS=1. Lines written outside any test (beforeAll,
 * afterAll, a tick between tests) belong to the file: they are printed before the first failure's own lines, or
 * when a beforeAll/afterAll hook fails.
 */
class QuietLogsEnvironment extends TestEnvironment {
  /**
   * @param {import('@jest/environment').JestEnvironmentConfig} config
   * @param {import('@jest/environment').EnvironmentContext} context
   */
  constructor(config, context) {
    super(config, context);
    this.file = path.relative(config.projectConfig.rootDir, context.testPath);
    this.passThrough = process.env.TEST_LOGS === '1';
    this.fileLines = new LineBuffer();
    this.fileLinesShown = false;
    /** @type {LineBuffer | null} */
    this.testLines = null;
    const sink = {
      /** false with TEST_LOGS=1: nothing is captured, output goes where it always went. */
      capturing: !this.passThrough,
      /** @param {string} text one or more whole lines */
      write: (text) => this.capture(text),
    };
    Object.defineProperty(this.global, SINK, { value: sink });
  }

  /** @param {string} text */
  capture(text) {
    if (this.passThrough) {
      process.stdout.write(text);
      return;
    }
    (this.testLines ?? this.fileLines).push(text.endsWith('\n') ? text : `${text}\n`);
  }

  /**
   * @param {import('jest-circus').Event} event
   * @param {import('jest-circus').State} state
   */
  handleTestEvent(event, state) {
    switch (event.name) {
      case 'test_start':
        this.testLines = new LineBuffer();
        break;
      case 'test_skip':
      case 'test_todo':
        this.testLines = null;
        break;
      case 'test_done': {
        const lines = this.testLines;
        this.testLines = null;
        if (event.test.errors.length > 0) {
          this.showFileLines();
          if (lines) this.print(`app log of failed test "${testName(event.test)}"`, lines);
        }
        break;
      }
      case 'hook_failure':
        if (event.hook.type === 'beforeAll' || event.hook.type === 'afterAll') this.showFileLines();
        break;
      case 'run_finish':
        if (state.unhandledErrors.length > 0) this.showFileLines();
        break;
      default:
        break;
    }
  }

  showFileLines() {
    if (this.fileLinesShown) return;
    this.fileLinesShown = true;
    this.print('app log outside tests (beforeAll, afterAll, between tests)', this.fileLines);
  }

  /**
   * @param {string} title
   * @param {LineBuffer} buffer
   */
  print(title, buffer) {
    if (buffer.empty) return;
    const dropped = buffer.dropped > 0 ? `, ${buffer.dropped} earlier lines dropped` : '';
    const head = `\n── ${this.file}: ${title} (${buffer.lines.length} lines${dropped}) ──\n`;
    process.stderr.write(`${head}${buffer.lines.join('')}── end of ${this.file} log ──\n`);
  }
}

/** @param {import('jest-circus').Circus.TestEntry} test */
function testName(test) {
  const names = [test.name];
  for (let block = test.parent; block && block.parent; block = block.parent) names.unshift(block.name);
  return names.join(' › ');
}

module.exports = QuietLogsEnvironment;
