import * as fs from 'node:fs';
import * as path from 'node:path';
import { environmentWithDotEnv, loadAppConfig, loadAppConfigOrExit } from '../../src/config';
import { makeTempDir } from '../support/test-app';

const ROOT = path.join(__dirname, '..', '..');

describe('.env loading', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = makeTempDir('st-dotenv-');
  });
  afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }));
  const writeDotEnv = (text: string) => fs.writeFileSync(path.join(cwd, '.env'), text);

  it('leaves the environment as it is when there is no .env', () => {
    const env = { PORT: '9000' };
    expect(environmentWithDotEnv(env, cwd)).toEqual({ PORT: '9000' });
  });

  it('fills in from ./.env; a variable of the real environment wins, even an empty one', () => {
    writeDotEnv(
      [
        '# comment',
        'PORT=9100',
        'SIMPLETUNER_LOG_LEVEL=debug',
        'HOST=0.0.0.0',
        'SIMPLETUNER_LOG_FILE="/var/log/st cloud.log"',
        'export SIMPLETUNER_LOG_FORMAT=text',
      ].join('\n'),
    );
    const env = environmentWithDotEnv({ PORT: '9200', HOST: '' }, cwd);
    expect(env).toEqual({
      PORT: '9200',
      HOST: '',
      SIMPLETUNER_LOG_LEVEL: 'debug',
      SIMPLETUNER_LOG_FILE: '/var/log/st cloud.log',
      SIMPLETUNER_LOG_FORMAT: 'text',
    });
  });

  it('reads `KEY=` as unset, so a verbatim copy of .env.example gives the defaults', () => {
    fs.copyFileSync(path.join(ROOT, '.env.example'), path.join(cwd, '.env'));
    const env = environmentWithDotEnv({}, cwd);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.SIMPLETUNER_QUEUE_INTERVAL).toBeUndefined();
    const fromExample = loadAppConfig(env, cwd);
    const defaults = loadAppConfig({}, cwd);
    expect(fromExample.env).toEqual(defaults.env);
    expect(fromExample.enterprise).toEqual(defaults.enterprise);
  });

  it('is what the entry points (main.ts, ormconfig.ts) load their configuration from', () => {
    writeDotEnv('SIMPLETUNER_DATA_DIR=./from-dotenv\nSIMPLETUNER_QUEUE_INTERVAL=7\nPORT=1\n');
    const config = loadAppConfigOrExit({ PORT: '0', SIMPLETUNER_ENTERPRISE_CONFIG: '' }, cwd);
    expect(config.env.PORT).toBe(0);
    expect(config.env.SIMPLETUNER_DATA_DIR).toBe('./from-dotenv');
    expect(config.enterprise.queueProcessingInterval).toBe(7);
  });

  it('refuses a .env it cannot read, naming it, with exit code 1', () => {
    fs.mkdirSync(path.join(cwd, '.env'));
    const exit = jest.spyOn(process, 'exit').mockImplementation(() => {
      throw new Error('exit');
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => loadAppConfigOrExit({}, cwd)).toThrow('exit');
      expect(exit).toHaveBeenCalledWith(1);
      expect(stderr).toHaveBeenCalledWith(expect.stringContaining(`Cannot read ${path.join(cwd, '.env')}`));
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  });
});
