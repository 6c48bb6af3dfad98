import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppConfig } from '../../src/config';
import { configureStructuredLogging, flushLogs, getLogger, LogRotationService } from '../../src/logging';
import { closeLogFile, currentLogFile } from '../../src/logging/sinks';

const log = getLogger('simpletuner.cloud.test.rotation');

function service(maxBytes: number, retention: number): LogRotationService {
  const config = {
    env: { SIMPLETUNER_LOG_MAX_BYTES: maxBytes, SIMPLETUNER_LOG_RETENTION: retention },
  } as unknown as AppConfig;
  return new LogRotationService(config);
}

function logFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => /^cloud\.log(\.\d+)?$/.test(n));
}

describe('log file rotation', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-rot-'));
    file = path.join(dir, 'cloud.log');
    configureStructuredLogging({ level: 'INFO', logFile: file, stdout: false });
  });
  afterEach(async () => {
    await closeLogFile(currentLogFile());
    configureStructuredLogging({ level: 'ERROR', logFile: null });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loses and splits no line while rotating under concurrent writing', async () => {
    const rotation = service(16 * 1024, 1000);
    const total = 20_000;
    let written = 0;
    let done = false;
    let rotations = 0;
    // Several writers interleaving with the rotation checks on the event loop. Every 500 lines a writer also waits
    // for the next rotation, so rotations happen mid-stream however slow the machine is.
    const nextRotation = async (after: number) => {
      const deadline = Date.now() + 5000;
      while (rotations <= after && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    };
    const writer = async (w: number) => {
      for (let i = 0; i < total / 4; i++) {
        log.info('Synced N active jobs', { writer: w, seq: i, pad: 'x'.repeat(i % 50) });
        written++;
        if (i % 500 === 499) await nextRotation(rotations);
        else if (i % 50 === 0) await new Promise((r) => setTimeout(r, 0));
      }
    };
    const rotator = (async () => {
      while (!done) {
        if ((await rotation.rotateIfNeeded(new Date())).rotated) rotations++;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await Promise.all([0, 1, 2, 3].map(writer));
    done = true;
    await rotator;
    await flushLogs();

    expect(written).toBe(total);
    expect(rotations).toBeGreaterThan(5);
    const seen = new Set<string>();
    let lines = 0;
    for (const name of logFiles(dir)) {
      for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
        if (!line) continue;
        const obj = JSON.parse(line); // a split line would not parse
        lines++;
        if (obj.message === 'Synced N active jobs') seen.add(`${obj.extra.writer}:${obj.extra.seq}`);
      }
    }
    expect(seen.size).toBe(total);
    // Every line in the files is a line written: ours plus one "Rotated log file" per rotation.
    expect(lines).toBe(total + rotations);
    const last = fs.readFileSync(path.join(dir, 'cloud.log.1'), 'utf8').trim().split('\n');
    expect(last.length).toBeGreaterThan(0);
  }, 30000);

  it('writes a burst in order, each line whole, and in the file soon after without a flush', async () => {
    // 30,000 lines in one synchronous run: the file is still opening, then busy with each write, the whole time.
    const total = 30_000;
    for (let i = 0; i < total; i++) log.info('Burst line', { seq: i, note: i % 7 === 0 ? 'ü€ non-ASCII' : 'ascii' });
    const read = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
    const deadline = Date.now() + 10_000;
    while (read().length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const seqs = read().map((l) => (JSON.parse(l) as { extra: { seq: number } }).extra.seq);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('keeps only N rotated files, newest in .1, and rotates daily only a non-empty file', async () => {
    const rotation = service(1024 * 1024, 3);
    for (let round = 1; round <= 5; round++) {
      log.info(`round ${round}`);
      await flushLogs();
      expect((await rotation.rotateDaily(new Date())).rotated).toBe(true);
    }
    expect(logFiles(dir).sort()).toEqual(['cloud.log', 'cloud.log.1', 'cloud.log.2', 'cloud.log.3']);
    const messages = (name: string) =>
      fs
        .readFileSync(path.join(dir, name), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).message);
    // Each file: the previous rotation's own line, then that round's line.
    expect(messages('cloud.log.1')).toEqual(['Rotated log file', 'round 5']);
    expect(messages('cloud.log.3')).toEqual(['Rotated log file', 'round 3']);
    await flushLogs();
    expect(messages('cloud.log')).toEqual(['Rotated log file']);
    fs.truncateSync(file, 0);
    expect((await rotation.rotateDaily(new Date())).rotated).toBe(false);
    expect((await rotation.rotateIfNeeded(new Date())).rotated).toBe(false);
  });
});
