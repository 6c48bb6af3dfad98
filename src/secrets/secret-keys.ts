import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../config';
import { getLogger } from '../logging';
import { SecretBox } from './secret-box';

const log = getLogger('simpletuner.cloud.secrets');

/** Where the embedded default keeps a key it generated. */
const GENERATED_KEY_FILE = 'secret.key';

/**
 * The service's secret box: `SIMPLETUNER_SECRET_KEY` (and `SIMPLETUNER_SECRET_KEY_PREVIOUS`, keys that still open
 * older values after a rotation). On the embedded default with no key set, one is generated once into
 * `<data dir>/secret.key` (mode 0600) and kept: the data folder then holds both the secrets and their key, so the
 * WARNING says to back it up. On PostgreSQL without a key, nothing can be sealed (submitting secrets is a 400).
 */
export function loadSecretBox(config: AppConfig): SecretBox {
  const decode = (v: string) => Buffer.from(v.trim(), 'base64');
  const previous = (config.env.SIMPLETUNER_SECRET_KEY_PREVIOUS ?? '')
    .split(',')
    .filter((v) => v.trim())
    .map(decode);
  if (config.env.SIMPLETUNER_SECRET_KEY) return new SecretBox(decode(config.env.SIMPLETUNER_SECRET_KEY), previous);
  if (!config.embeddedDatabase) return new SecretBox(null, previous);
  return new SecretBox(generatedKey(config.dataDir), previous);
}

function generatedKey(dataDir: string): Buffer {
  const file = path.join(dataDir, GENERATED_KEY_FILE);
  if (fs.existsSync(file)) return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  fs.mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  // `wx`: if another process generated it meanwhile, keep theirs.
  try {
    fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return generatedKey(dataDir);
    throw err;
  }
  log.warning(
    `Generated a secret key at ${file}: back it up with the data folder (without it, stored secrets cannot be read), or set SIMPLETUNER_SECRET_KEY`,
    { path: file },
  );
  return key;
}
