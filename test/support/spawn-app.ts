import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureOutput } from './test-logs';

const ROOT = path.join(__dirname, '..', '..');

export interface SpawnedApp {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * The node arguments that run `file` (relative to the repository) from source from any working directory: in a
 * temporary one, the child never reads a developer's ./.env or ./simpletuner-enterprise.yaml from the checkout.
 * TypeScript goes through a transpile cache shared by every child (ts-cached-register.js).
 */
export function fromSourceArgs(file: string): string[] {
  return ['-r', path.join(__dirname, 'ts-cached-register.js'), path.join(ROOT, file)];
}

/** What the TypeORM CLI run from source (ts-node) needs to find the compiler options from any working directory. */
export const TS_NODE_ENV = { TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json') };

/**
 * Runs src/main.ts in a child process, as `npm run start:prod` would run the built app, with only `env` (plus PATH
 * and HOME) as its environment and `opts.cwd` (default: a fresh empty folder) as its working directory.
 */
export function spawnApp(env: Record<string, string>, opts: { cwd?: string } = {}): SpawnedApp {
  const cwd = opts.cwd ?? fs.mkdtempSync(path.join(os.tmpdir(), 'st-app-cwd-'));
  const child = spawn(process.execPath, fromSourceArgs('src/main.ts'), {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  captureOutput(child.stdout, `[app ${child.pid} stdout]`);
  captureOutput(child.stderr, `[app ${child.pid} stderr]`);
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    waiters.forEach((w) => w());
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    waiters.forEach((w) => w());
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      if (!opts.cwd) fs.rmSync(cwd, { recursive: true, force: true });
      resolve(code ?? signal ?? -1);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(pattern, timeoutMs = 30000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out) || pattern.test(err)) {
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}; stdout:\n${out}\nstderr:\n${err}`)),
          timeoutMs,
        );
        waiters.push(check);
        check();
        void exited.then(() =>
          setTimeout(() => reject(new Error(`process exited before ${pattern}; stdout:\n${out}\nstderr:\n${err}`)), 50),
        );
      });
    },
  };
}
