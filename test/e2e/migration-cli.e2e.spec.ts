import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, startTestApp } from '../support/test-app';
import { TS_NODE_ENV } from '../support/spawn-app';
import { logOutput } from '../support/test-logs';

const ROOT = path.join(__dirname, '..', '..');
const migrationCount = fs
  .readdirSync(path.join(ROOT, 'src/database/migrations'))
  .filter((f) => f.endsWith('.ts')).length;

/** `npm run migration:*` as a user runs it, in `cwd` (whose ./.env it reads). */
function cli(args: string[], cwd: string, env: Record<string, string>) {
  const result = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typeorm/cli-ts-node-commonjs.js'), '-d', path.join(ROOT, 'ormconfig.ts'), ...args],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        TS_NODE_TRANSPILE_ONLY: 'true',
        ...TS_NODE_ENV,
        ...env,
      },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  logOutput(`[typeorm ${args[0]} stdout]`, result.stdout);
  logOutput(`[typeorm ${args[0]} stderr]`, result.stderr);
  return result;
}

describe('migration CLI through ormconfig.ts on PGlite', () => {
  const dir = makeTempDir('st-cli-');
  const cwd = makeTempDir('st-cli-cwd-');
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('runs and reverts migrations, then refuses data held by a running app', async () => {
    // The data folder comes from ./.env, like a deployment's; the environment holds only what a test must pin.
    fs.writeFileSync(path.join(cwd, '.env'), `SIMPLETUNER_DATA_DIR=${dir}\nSIMPLETUNER_LOG_LEVEL=ERROR\n`);
    const env = { SIMPLETUNER_ENTERPRISE_CONFIG: '' };
    const run = cli(['migration:run'], cwd, env);
    expect(run.status).toBe(0);
    expect(run.stdout.match(/has been executed successfully/g)).toHaveLength(migrationCount);

    const revert = cli(['migration:revert'], cwd, env);
    expect(revert.status).toBe(0);
    expect(revert.stdout).toMatch(/has been reverted successfully/);
    const show = cli(['migration:show'], cwd, env);
    expect(show.stdout.match(/\[X\]/g)).toHaveLength(migrationCount - 1);
    expect(show.stdout.match(/\[ \]/g)).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, 'simpletuner.lock'))).toBe(false);

    const app = await startTestApp({ db: 'pglite', dataDir: dir });
    try {
      const refused = cli(['migration:show'], cwd, env);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`The data folder ${dir} is in use by another process \\(pid ${process.pid}\\)`),
      );
    } finally {
      await app.close();
    }
  }, 300_000); // four CLI processes, each compiling the project with ts-node
});
