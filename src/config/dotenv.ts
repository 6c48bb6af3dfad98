import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from 'node:util';

export class DotEnvError extends Error {}

/**
 * The environment the entry points run with: the real environment over `<cwd>/.env` when that file exists. A
 * variable set in the real environment always wins. `KEY=` with nothing after it leaves KEY unset (its default),
 * so a copy of .env.example is a valid .env. The syntax is Node's own (`node --env-file`).
 */
export function environmentWithDotEnv(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const file = path.join(cwd, '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return env;
    throw new DotEnvError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  const fromFile: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(parseEnv(text))) if (value) fromFile[key] = value;
  return { ...fromFile, ...env };
}
