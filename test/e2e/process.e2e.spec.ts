import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir } from '../support/test-app';
import { spawnApp } from '../support/spawn-app';

describe('the service as a process', () => {
  const dir = makeTempDir('st-process-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad log level with one stderr line naming the variable, exit code 1', async () => {
    const app = spawnApp({ SIMPLETUNER_LOG_LEVEL: 'LOUD', SIMPLETUNER_DATA_DIR: path.join(dir, 'a') });
    expect(await app.exited).toBe(1);
    const lines = app.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/SIMPLETUNER_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL/);
    expect(fs.existsSync(path.join(dir, 'a'))).toBe(false);
  });

  it('refuses an enterprise file that disables queue processing', async () => {
    const file = path.join(dir, 'enterprise.yaml');
    fs.writeFileSync(file, 'background:\n  queue_processing:\n    enabled: false\n');
    const app = spawnApp({ SIMPLETUNER_ENTERPRISE_CONFIG: file, SIMPLETUNER_DATA_DIR: path.join(dir, 'b') });
    expect(await app.exited).toBe(1);
    expect(app.stderr()).toMatch(/queue_processing\.enabled: queue processing cannot be disabled/);
  });

  it('exits 0 within 5 s of SIGTERM when idle, logging no error', async () => {
    const app = spawnApp({ SIMPLETUNER_DATA_DIR: path.join(dir, 'c'), PORT: '0', SIMPLETUNER_ENTERPRISE_CONFIG: '' });
    await app.waitForOutput(/listening on http/, 150_000);
    const sent = Date.now();
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(app.stdout()).not.toMatch(/"level": ?"(ERROR|CRITICAL)"/);
    expect(app.stderr()).toBe('');
    // The lock is released: the data folder can be opened again.
    expect(fs.existsSync(path.join(dir, 'c', 'simpletuner.lock'))).toBe(false);
  }, 180_000); // ts-node compiles the whole app in the child before it listens

  it('reads ./.env from its working directory, the real environment winning over it', async () => {
    const cwd = path.join(dir, 'd');
    fs.mkdirSync(cwd);
    fs.writeFileSync(
      path.join(cwd, '.env'),
      [
        '# overridden by the environment: LOUD would refuse to start',
        'SIMPLETUNER_LOG_LEVEL=LOUD',
        'SIMPLETUNER_LOG_FORMAT=text',
        'SIMPLETUNER_DATA_DIR=./data-from-dotenv',
        'PORT=0',
        'SIMPLETUNER_ENTERPRISE_CONFIG=',
      ].join('\n'),
    );
    const app = spawnApp({ SIMPLETUNER_LOG_LEVEL: 'INFO' }, { cwd });
    await app.waitForOutput(/listening on http/, 150_000);
    expect(app.stdout()).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[INFO\] simpletuner\.cloud\.main \(-\): SimpleTuner Cloud listening on http:\/\/127\.0\.0\.1:\d+/m,
    );
    expect(fs.existsSync(path.join(cwd, 'data-from-dotenv', 'simpletuner.lock'))).toBe(true);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(app.stderr()).toBe('');
  }, 180_000);
});
