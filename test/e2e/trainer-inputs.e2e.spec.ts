import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { JobSyncService } from '../../src/jobs/job-sync.service';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { makeOrg, makeUser } from '../support/approval-fixtures';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');
/** A token no test writes anywhere else: every place it turns up is a leak. */
const TOKEN = `hf_probe${randomBytes(12).toString('hex')}`;

const TRAINING = {
  config_name: 'portraits',
  config: { model_family: 'flux', learning_rate: 0.0001, lora_rank: 16 },
  dataloader_config: [{ id: 'portraits', type: 'local', instance_data_dir: '/data/portraits' }],
  lycoris_config: { algo: 'lokr', factor: 16 },
  dataset: { url: 'https://datasets.example.com/portraits.tar.gz' },
  hub_model_id: 'me/portrait-lora',
  max_train_steps: 1500,
};

/** How a job with TRAINING and an hf_token shows them. */
const SHOWN = {
  dataloader_config: TRAINING.dataloader_config,
  lycoris_config: TRAINING.lycoris_config,
  dataset: TRAINING.dataset,
  hub_model_id: TRAINING.hub_model_id,
  max_train_steps: TRAINING.max_train_steps,
  secrets: ['hf_token'],
};

/** Training inputs through the whole app to the fake Replicate, and the secrets that go with them. */
describe('trainer inputs and job secrets (PostgreSQL, fake Replicate)', () => {
  let database: TestDatabase;
  let fake: FakeReplicate;
  let app: TestApp;
  let db: DataSource;
  const logFile = path.join(makeTempDir(), 'cloud.log');
  const responses: string[] = [];

  const start = (env: Record<string, string>) =>
    startTestApp({
      database,
      env: {
        REPLICATE_API_BASE: fake.url,
        REPLICATE_API_TOKEN: fake.token,
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_LOG_LEVEL: 'DEBUG',
        SIMPLETUNER_LOG_FILE: logFile,
        ...env,
      },
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeReplicate();
    app = await start({ SIMPLETUNER_SECRET_KEY: KEY_A });
    db = app.app.get(DataSource);
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
    await database?.drop();
  });

  /** Every response body of this file is kept, to look for the token in them at the end. */
  async function call(method: string, url: string, opts: Parameters<typeof http>[3] = {}) {
    const res = await http(app.url, method, url, { key: app.adminKey, ...opts });
    responses.push(res.text);
    return res;
  }

  async function dispatch(jobId: string) {
    await call('POST', '/api/queue/process');
    const prediction = await fake.waitForPrediction(jobId);
    expect(prediction).toBeDefined();
    return prediction!;
  }

  it('reaches Replicate as the inputs the trainer declares, with the token as hf_token', async () => {
    const submit = await call('POST', '/api/cloud/jobs/submit', {
      body: { ...TRAINING, secrets: { hf_token: TOKEN } },
    });
    expect(submit.status).toBe(201);
    const jobId = submit.body.job_id as string;
    const stored = await db.query(`SELECT secret_names, dataset FROM jobs WHERE job_id = $1`, [jobId]);
    expect(stored[0]).toEqual({ secret_names: ['hf_token'], dataset: TRAINING.dataset });
    const [sealed] = await db.query(`SELECT sealed FROM job_secrets WHERE job_id = $1`, [jobId]);
    expect(sealed.sealed).not.toContain(TOKEN);
    // The answer, the job and its row in the list show the inputs as submitted, the secret by name only.
    expect(submit.body).toMatchObject(SHOWN);
    expect((await call('GET', `/api/cloud/jobs/${jobId}`)).body).toMatchObject({ ...SHOWN, artifacts: [] });
    const page = await call('GET', '/api/cloud/jobs?limit=100');
    expect(page.body.jobs.find((j: { job_id: string }) => j.job_id === jobId)).toMatchObject(SHOWN);

    const prediction = await dispatch(jobId);
    // JSON inputs are compared as JSON (the database keeps a config's keys in its own order).
    const json = (v: unknown) => JSON.parse(String(v)) as unknown;
    const { config_json, dataloader_json, lycoris_config, ...plain } = prediction.input;
    expect([json(config_json), json(dataloader_json), json(lycoris_config)]).toEqual([
      TRAINING.config,
      TRAINING.dataloader_config,
      TRAINING.lycoris_config,
    ]);
    expect(plain).toEqual({
      images: TRAINING.dataset.url,
      hub_model_id: TRAINING.hub_model_id,
      max_train_steps: TRAINING.max_train_steps,
      hf_token: TOKEN,
      job_id: jobId,
    });

    // The run ends: its secret is deleted with its end.
    await fake.setStatus(prediction.id, 'processing');
    await fake.setStatus(prediction.id, 'succeeded');
    await app.app.get(JobSyncService).syncActiveJobs(); // the poll tick's own call
    const done = (await call('GET', `/api/cloud/jobs/${jobId}`)).body;
    expect(done.status).toBe('completed');
    // The job shows where the model goes (the dashboard links it), never the token.
    expect(done.hub_model_id).toBe(TRAINING.hub_model_id);
    expect(JSON.stringify(done)).not.toContain(TOKEN);
    expect(await db.query(`SELECT 1 FROM job_secrets WHERE job_id = $1`, [jobId])).toHaveLength(0);
  });

  it('answers a repeated idempotency key with the first job’s inputs, its secret by name only', async () => {
    const body = { ...TRAINING, config_name: 'replayed', idempotency_key: 'inputs-1', secrets: { hf_token: TOKEN } };
    const first = await call('POST', '/api/cloud/jobs/submit', { body });
    expect(first.status).toBe(201);
    const again = await call('POST', '/api/cloud/jobs/submit', { body });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ ...SHOWN, job_id: first.body.job_id, idempotent_hit: true });
    // It would hold a running slot of this user's that the later tests' dispatches need.
    expect((await call('POST', `/api/cloud/jobs/${first.body.job_id}/cancel`)).body).toMatchObject(SHOWN);
  });

  it('takes the dataset from the submitter’s own upload: its provider URL becomes the trainer’s images', async () => {
    const up = await call('POST', '/api/cloud/uploads?filename=portraits.zip', {
      rawBody: randomBytes(4096),
      headers: { 'Content-Type': 'application/zip' },
    });
    expect(up.status).toBe(201);
    const submit = await call('POST', '/api/cloud/jobs/submit', {
      body: { ...TRAINING, config_name: 'uploaded', dataset: { upload_id: up.body.upload_id } },
    });
    expect(submit.status).toBe(201);
    const stored = await db.query(`SELECT dataset FROM jobs WHERE job_id = $1`, [submit.body.job_id]);
    expect(stored[0].dataset).toEqual({ url: up.body.url, upload_id: up.body.upload_id });
    // Shown as submitted: the upload, not the provider's URL of its file.
    expect(submit.body.dataset).toEqual({ upload_id: up.body.upload_id });
    const job = await call('GET', `/api/cloud/jobs/${submit.body.job_id}`);
    expect([job.body.dataset, job.body.secrets]).toEqual([{ upload_id: up.body.upload_id }, []]);
    expect((await dispatch(submit.body.job_id as string)).input.images).toBe(up.body.url);

    // Someone else's upload is not found; an unknown one neither.
    const org = await makeOrg(app, 'uploads-org');
    const other = await makeUser(app, 'uploads-other', 'researcher', org);
    for (const [key, uploadId] of [
      [other.key, up.body.upload_id],
      [app.adminKey, '00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const res = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
        key,
        body: { config_name: 'x', config: {}, dataset: { upload_id: uploadId } },
      });
      expect(res.status).toBe(404);
      expect(res.body.details).toHaveProperty(['dataset.upload_id']);
    }
    // Expired at the provider: 400.
    await db.query(`UPDATE uploads SET expires_at = now() - interval '1 minute' WHERE id = $1`, [up.body.upload_id]);
    const expired = await call('POST', '/api/cloud/jobs/submit', {
      body: { config_name: 'x', config: {}, dataset: { upload_id: up.body.upload_id } },
    });
    expect(expired.status).toBe(400);
    expect(expired.body.details).toEqual({ 'dataset.upload_id': 'expired' });
  });

  it('refuses bad trainer inputs with a 400 naming the field', async () => {
    const bad = async (body: Record<string, unknown>) => {
      const res = await call('POST', '/api/cloud/jobs/submit', { body: { config_name: 'x', config: {}, ...body } });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('validation_error');
      return res.body.details as Record<string, string>;
    };
    expect(await bad({ secrets: { github_token: TOKEN } })).toHaveProperty(['secrets.github_token']);
    expect(await bad({ dataset: { url: 'http://example.com/a.zip' } })).toHaveProperty(['dataset.url']);
    expect(await bad({ dataset: { url: 'https://example.com/a.rar' } })).toHaveProperty(['dataset.url']);
    expect(await bad({ dataset: {} })).toHaveProperty('dataset');
    expect(await bad({ dataloader_config: { id: 'not-a-list' } })).toHaveProperty('dataloader_config');
    expect(await bad({ dataloader_config: ['not-an-object'] })).toHaveProperty('dataloader_config');
    expect(await bad({ dataloader_config: Array.from({ length: 65 }, () => ({})) })).toHaveProperty(
      'dataloader_config',
    );
    expect(await bad({ hub_model_id: 'no-slash' })).toHaveProperty('hub_model_id');
    expect(await bad({ max_train_steps: 0 })).toHaveProperty('max_train_steps');
    const hidden = await bad({ config: { a: { b: [{ HF_Token: TOKEN }] } } });
    expect(hidden.secrets).toMatch(/config\.a\.b\[0\]\.HF_Token/);
    expect(await bad({ dataloader_config: [{ password: TOKEN }] })).toHaveProperty('secrets');
  });

  it('a key rotated to SIMPLETUNER_SECRET_KEY_PREVIOUS still opens an older job’s secret', async () => {
    const submit = await call('POST', '/api/cloud/jobs/submit', {
      body: { ...TRAINING, config_name: 'rotated', secrets: { hf_token: TOKEN, s3_access_key_id: 'AKIAROTATE' } },
    });
    expect(submit.status).toBe(201);
    await app.stop();
    app = await start({ SIMPLETUNER_SECRET_KEY: KEY_B, SIMPLETUNER_SECRET_KEY_PREVIOUS: KEY_A });
    db = app.app.get(DataSource);
    const prediction = await dispatch(submit.body.job_id as string);
    expect(prediction.input).toMatchObject({ hf_token: TOKEN, s3_access_key: 'AKIAROTATE' });
  });

  it('leaves the token nowhere: log lines, events, audit rows, responses', async () => {
    const logged = fs.readFileSync(logFile, 'utf8');
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.includes(TOKEN)).toBe(false);
    const events = await db.query(`SELECT count(*)::int AS n FROM events WHERE data::text LIKE $1`, [`%${TOKEN}%`]);
    expect(events[0].n).toBe(0);
    const audit = await db.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE row_to_json(audit_log)::text LIKE $1`,
      [`%${TOKEN}%`],
    );
    expect(audit[0].n).toBe(0);
    const jobs = await db.query(`SELECT count(*)::int AS n FROM jobs WHERE row_to_json(jobs)::text LIKE $1`, [
      `%${TOKEN}%`,
    ]);
    expect(jobs[0].n).toBe(0);
    expect(responses.length).toBeGreaterThan(10);
    expect(responses.filter((r) => r.includes(TOKEN))).toEqual([]);
  });
});

describe('secrets on PostgreSQL without SIMPLETUNER_SECRET_KEY', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('refuses a submit with secrets (400 naming the setting) and accepts one without', async () => {
    const body = { config_name: 'nokey', config: {}, provider: 'simulator' };
    const refused = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { ...body, secrets: { hf_token: 'hf_x' } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.details.secrets).toMatch(/SIMPLETUNER_SECRET_KEY/);
    expect(JSON.stringify(refused.body)).not.toContain('hf_x');
    const ok = await http(app.url, 'POST', '/api/cloud/jobs/submit', { key: app.adminKey, body });
    expect(ok.status).toBe(201);
  });
});
