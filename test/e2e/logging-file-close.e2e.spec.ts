import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, startTestApp } from '../support/test-app';

/** How many of this process's descriptors are open on `file` (Linux: /proc/self/fd). */
function descriptorsOn(file: string): number {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // closed while listing (the listing's own descriptor)
    }
  }).length;
}

const onLinux = fs.existsSync('/proc/self/fd') ? it : it.skip;

describe('SIMPLETUNER_LOG_FILE of an app closed in a process that goes on', () => {
  const dir = makeTempDir('st-e2e-logclose-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  onLinux('gets the shutdown lines, then is closed with the app: no descriptor outlives it', async () => {
    const logFile = path.join(dir, 'cloud.log');
    const app = await startTestApp({ env: { SIMPLETUNER_LOG_FILE: logFile, SIMPLETUNER_LOG_LEVEL: 'INFO' } });
    expect(descriptorsOn(logFile)).toBe(1);
    await app.stop();
    expect(descriptorsOn(logFile)).toBe(0);
    const messages = fs
      .readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).message);
    expect(messages).toContain('Stopped job status polling');
  });
});
