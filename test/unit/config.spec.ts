import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigValidationError, loadAppConfig } from '../../src/config';
import { makeTempDir } from '../support/test-app';

function problems(env: Record<string, string>, cwd?: string): string[] {
  try {
    loadAppConfig(env, cwd);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  const dir = makeTempDir('st-config-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('applies the documented defaults', () => {
    const c = loadAppConfig({ SIMPLETUNER_ENTERPRISE_CONFIG: '' }, dir);
    expect(c.env).toMatchObject({
      PORT: 8001,
      HOST: '127.0.0.1',
      SIMPLETUNER_LOG_LEVEL: 'INFO',
      SIMPLETUNER_LOG_FORMAT: 'json',
      DB_MIGRATIONS_RUN: true,
      SIMPLETUNER_JOB_RETENTION_DAYS: 90,
    });
    expect(c.embeddedDatabase).toBe(true);
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.enterprise).toMatchObject({
      jobPollingEnabled: undefined,
      jobPollingInterval: 30,
      queueProcessingInterval: 5,
      approvalCheckInterval: 300,
      queueMaxConcurrent: 5,
      queueUserMaxConcurrent: 2,
      queueOrgMaxConcurrent: 10,
      starvationMinutes: 60,
      approvalExpiresHours: 24,
    });
    expect(Object.isFrozen(c.enterprise)).toBe(true);
  });

  it('accepts log levels case-insensitively and names every bad variable at once', () => {
    expect(loadAppConfig({ SIMPLETUNER_LOG_LEVEL: 'warning' }, dir).env.SIMPLETUNER_LOG_LEVEL).toBe('WARNING');
    const bad = problems(
      { SIMPLETUNER_LOG_LEVEL: 'LOUD', PORT: 'eighty', SIMPLETUNER_QUEUE_INTERVAL: '0', DATABASE_URL: 'mysql://x' },
      dir,
    );
    expect(bad.map((p) => p.split(':')[0]).sort()).toEqual([
      'DATABASE_URL',
      'PORT',
      'SIMPLETUNER_LOG_LEVEL',
      'SIMPLETUNER_QUEUE_INTERVAL',
    ]);
  });

  it('takes SIMPLETUNER_JOB_RETENTION_DAYS as whole days, 0 keeping jobs forever', () => {
    expect(loadAppConfig({ SIMPLETUNER_JOB_RETENTION_DAYS: '0' }, dir).env.SIMPLETUNER_JOB_RETENTION_DAYS).toBe(0);
    for (const value of ['-1', '1.5', 'forever']) {
      expect(problems({ SIMPLETUNER_JOB_RETENTION_DAYS: value }, dir)).toEqual([
        expect.stringMatching(/^SIMPLETUNER_JOB_RETENTION_DAYS: /),
      ]);
    }
  });

  it('reads a YAML enterprise file with ${VAR} interpolation; env wins over file, file over default', () => {
    const file = write(
      'enterprise.yaml',
      [
        'background:',
        '  job_status_polling: { enabled: true, interval_seconds: ${POLL_SECONDS} }',
        '  approval_expiration: { interval_seconds: 120 }',
        'queue: { max_concurrent: 9, starvation_minutes: 15 }',
        'custom_enterprise_key: kept',
      ].join('\n'),
    );
    const fromFile = loadAppConfig({ SIMPLETUNER_ENTERPRISE_CONFIG: file, POLL_SECONDS: '45' }, dir).enterprise;
    expect(fromFile).toMatchObject({
      sourceFile: file,
      jobPollingEnabled: true,
      jobPollingInterval: 45,
      approvalCheckInterval: 120,
      queueMaxConcurrent: 9,
      starvationMinutes: 15,
      queueProcessingInterval: 5,
    });
    expect(fromFile.raw.custom_enterprise_key).toBe('kept');
    const envWins = loadAppConfig(
      { SIMPLETUNER_ENTERPRISE_CONFIG: file, POLL_SECONDS: '45', SIMPLETUNER_JOB_POLL_INTERVAL: '60' },
      dir,
    ).enterprise;
    expect(envWins.jobPollingInterval).toBe(60);
  });

  it('reads a JSON enterprise file and finds ./simpletuner-enterprise.yaml in the working folder', () => {
    const json = write(
      'enterprise.json',
      JSON.stringify({ background: { queue_processing: { interval_seconds: 7 } } }),
    );
    expect(loadAppConfig({ SIMPLETUNER_ENTERPRISE_CONFIG: json }, dir).enterprise.queueProcessingInterval).toBe(7);
    const cwd = makeTempDir('st-config-cwd-');
    fs.writeFileSync(path.join(cwd, 'simpletuner-enterprise.yaml'), 'approvals: { expires_hours: 2 }\n');
    expect(loadAppConfig({}, cwd).enterprise.approvalExpiresHours).toBe(2);
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('reads the trusted proxies and rate limits, and names a bad proxy entry at boot', () => {
    const config = loadAppConfig(
      { SIMPLETUNER_TRUSTED_PROXIES: ' 10.0.0.0/8, ::1 ,loopback', SIMPLETUNER_RATE_LIMIT_PER_MINUTE: '0' },
      dir,
    );
    expect(config.env.SIMPLETUNER_TRUSTED_PROXIES).toEqual(['10.0.0.0/8', '::1', 'loopback']);
    expect(config.env.SIMPLETUNER_RATE_LIMIT_PER_MINUTE).toBe(0);
    const defaults = loadAppConfig({}, dir).env;
    expect(defaults.SIMPLETUNER_TRUSTED_PROXIES).toEqual([]);
    expect(defaults.SIMPLETUNER_RATE_LIMIT_PER_MINUTE).toBe(600);
    expect(defaults.SIMPLETUNER_RATE_LIMIT_SUBMIT_PER_MINUTE).toBe(60);
    expect(problems({ SIMPLETUNER_TRUSTED_PROXIES: '10.0.0.0/8,proxy.example.com' }, dir)).toEqual([
      expect.stringMatching(/^SIMPLETUNER_TRUSTED_PROXIES: must be IP addresses or CIDR ranges/),
    ]);
    expect(problems({ SIMPLETUNER_TRUSTED_PROXIES: '10.0.0.0/33' }, dir)).toHaveLength(1);
    // A negative limit reads as what is wanted instead, not as "not a whole number" alone.
    expect(problems({ SIMPLETUNER_RATE_LIMIT_PER_MINUTE: '-1' }, dir)).toEqual([
      'SIMPLETUNER_RATE_LIMIT_PER_MINUTE: must be a whole number, at least 0',
    ]);
  });

  it('refuses queue_processing.enabled: false, a sub-second interval, a missing explicit file and bad YAML', () => {
    const disabled = write('disabled.yaml', 'background:\n  queue_processing:\n    enabled: false\n');
    expect(problems({ SIMPLETUNER_ENTERPRISE_CONFIG: disabled }, dir).join('\n')).toMatch(
      /queue_processing\.enabled: queue processing cannot be disabled/,
    );
    const fast = write('fast.yaml', 'background:\n  job_status_polling:\n    interval_seconds: 0.5\n');
    expect(problems({ SIMPLETUNER_ENTERPRISE_CONFIG: fast }, dir).join('\n')).toMatch(
      /interval_seconds: must be at least 1 second/,
    );
    expect(problems({ SIMPLETUNER_ENTERPRISE_CONFIG: path.join(dir, 'nope.yaml') }, dir).join('\n')).toMatch(
      /SIMPLETUNER_ENTERPRISE_CONFIG: file not found/,
    );
    const broken = write('broken.yaml', 'queue: [unclosed\n');
    expect(problems({ SIMPLETUNER_ENTERPRISE_CONFIG: broken }, dir).join('\n')).toMatch(/cannot parse/);
  });
});
