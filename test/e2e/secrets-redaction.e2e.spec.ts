import * as fs from 'node:fs';
import * as path from 'node:path';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { flushLogs } from '../../src/logging';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/**
 * One value per secret pattern a config may still carry (the credentials the trainer takes are refused outright,
 * below): none may come back from the API, the event log or the log file.
 */
const SECRETS = {
  passwd: 'pw-passwd-value',
  db_password: 'pw-db-value',
  client_secret: 'cs-value-123',
  wandb_key: 'wandb-0123456789abcdef0123',
  private_key: '-----BEGIN PRIVATE KEY-----MIIE',
  aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE',
  hub_auth: 'hub-auth-value-42',
  credentials: 'cred-value-88',
};
/** Credentials that belong in `secrets`: a config holding one at any depth is refused. */
const REFUSED = {
  hf_token: 'hf_abcdefghijklmnopqrstuvwxyz0123',
  huggingface_token: 'hf_huggingface_token_value',
  hub_token: 'hub-token-value-5',
  wandb_api_key: 'wandb-api-key-value-6',
  aws_secret_access_key: 'aws-secret-value-xyz',
  s3_secret_access_key: 's3-secret-value-7',
  replicate_api_token: 'r8_replicate_token_value',
  api_key: 'api-key-value-77',
  password: 'pw-hunter2-secret',
};
const IN_VALUES = {
  dataset_url: 'https://user:url-password-99@data.example/set',
  note: 'use Bearer bearer-token-value-1234 then',
  github: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  openai: 'sk-abcdefghijklmnopqrstuvwxyz0123',
};
const LEAKS = [
  ...Object.values(SECRETS),
  'url-password-99',
  'bearer-token-value-1234',
  IN_VALUES.github,
  IN_VALUES.openai,
];

describe('secrets in a training config never come back', () => {
  let app: TestApp;
  let logFile: string;
  let jobId: string;

  beforeAll(async () => {
    const dir = makeTempDir();
    logFile = path.join(dir, 'cloud.log');
    app = await startTestApp({
      env: { SIMPLETUNER_LOG_FILE: logFile, SIMPLETUNER_LOG_LEVEL: 'DEBUG', SIMULATOR_STEP_SECONDS: '0.2' },
    });
    const sub = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: {
        config_name: `run with ${IN_VALUES.github}`,
        config: {
          ...SECRETS,
          ...IN_VALUES,
          nested: { ...SECRETS },
          list: [{ client_secret: SECRETS.client_secret }],
          lr: 1e-4,
        },
      },
    });
    expect(sub.status).toBe(201);
    jobId = sub.body.job_id;
    // Let the job live (dispatch, status changes) so its events and log lines exist.
    for (let i = 0; i < 50; i++) {
      const job = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey });
      if (job.body.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(() => app?.stop());

  it('in the job the API returns', async () => {
    const job = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey });
    const text = JSON.stringify(job.body);
    for (const leak of LEAKS) expect(text).not.toContain(leak);
    for (const name of Object.keys(SECRETS)) {
      expect(job.body.config[name]).toBe('[REDACTED]');
      expect(job.body.config.nested[name]).toBe('[REDACTED]');
    }
    expect(job.body.config.list[0].client_secret).toBe('[REDACTED]');
    expect(job.body.config.dataset_url).toBe('https://user:[REDACTED]@data.example/set');
    expect(job.body.config.lr).toBe(1e-4);
    const list = await http(app.url, 'GET', '/api/cloud/jobs', { key: app.adminKey });
    for (const leak of LEAKS) expect(JSON.stringify(list.body)).not.toContain(leak);
  });

  it('a credential the trainer takes as a secret is refused in a config, at any depth, and not echoed', async () => {
    for (const [name, value] of Object.entries(REFUSED)) {
      for (const config of [{ [name.toUpperCase()]: value }, { deep: [{ x: { [name]: value } }] }]) {
        const res = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
          key: app.adminKey,
          body: { config_name: 'refused', config },
        });
        expect(res.status).toBe(400);
        expect(res.body.details.secrets).toMatch(/send it in secrets/);
        expect(res.text).not.toContain(value);
      }
    }
  });

  it('in its events', async () => {
    const db = app.app.get<DataSource>(getDataSourceToken());
    const rows = await db.query<{ data: unknown }[]>(`SELECT data FROM events WHERE job_id = $1`, [jobId]);
    expect(rows.length).toBeGreaterThan(1);
    const text = JSON.stringify(rows);
    for (const leak of LEAKS) expect(text).not.toContain(leak);
  });

  it('in the log file', async () => {
    await flushLogs();
    const log = fs.readFileSync(logFile, 'utf8');
    expect(log).toContain(jobId);
    for (const leak of LEAKS) expect(log).not.toContain(leak);
  });
});
