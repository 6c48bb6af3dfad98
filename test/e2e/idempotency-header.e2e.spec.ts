import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** The standard Idempotency-Key header on submit, with the body key's semantics (per user, 24 h). */
describe('Idempotency-Key header on submit', () => {
  let app: TestApp;
  let db: DataSource;
  const body = (extra: Record<string, unknown> = {}) => ({ config_name: 'idem', config: { lr: 1e-4 }, ...extra });
  const submit = (headers: Record<string, string>, b: Record<string, unknown> = body()) =>
    http(app.url, 'POST', '/api/cloud/jobs/submit', { key: app.adminKey, body: b, headers });
  const jobsWithKey = async (key: string) =>
    Number((await db.query(`SELECT count(*)::int AS n FROM jobs WHERE idempotency_key = $1`, [key]))[0].n);

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
    db = app.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(() => app?.stop());

  it('replays the original job with Idempotent-Replayed: true', async () => {
    const first = await submit({ 'Idempotency-Key': 'hdr-1' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await submit({ 'Idempotency-Key': 'hdr-1' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toMatchObject({ job_id: first.body.job_id, idempotent_hit: true });
    // The header and the body key are one namespace: the body key finds the same job.
    const viaBody = await submit({}, body({ idempotency_key: 'hdr-1' }));
    expect(viaBody.body.job_id).toBe(first.body.job_id);
    expect(await jobsWithKey('hdr-1')).toBe(1);
  });

  it('answers the same key with another body 422 idempotency_key_reused', async () => {
    const first = await submit({ 'Idempotency-Key': 'hdr-2' });
    const other = await submit({ 'Idempotency-Key': 'hdr-2' }, body({ config: { lr: 2e-4 } }));
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ error: 'idempotency_key_reused', details: { job_id: first.body.job_id } });
    expect(await jobsWithKey('hdr-2')).toBe(1);
  });

  it('creates one job for 10 concurrent repeats', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => submit({ 'Idempotency-Key': 'hdr-race' })));
    const ids = new Set(answers.map((a) => a.body.job_id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(9);
    expect(await jobsWithKey('hdr-race')).toBe(1);
  });

  it('refuses a header and a body key that disagree, and a malformed header, with 400', async () => {
    const disagree = await submit({ 'Idempotency-Key': 'hdr-a' }, body({ idempotency_key: 'hdr-b' }));
    expect(disagree.status).toBe(400);
    expect(disagree.body).toMatchObject({
      error: 'validation_error',
      details: { idempotency_key: expect.any(String) },
    });
    const agree = await submit({ 'Idempotency-Key': 'hdr-c' }, body({ idempotency_key: 'hdr-c' }));
    expect(agree.status).toBe(201);
    const tooLong = await submit({ 'Idempotency-Key': 'k'.repeat(256) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.details).toHaveProperty('Idempotency-Key');
    expect(await jobsWithKey('hdr-a')).toBe(0);
  });

  it('accepts any printable key up to 255 characters, spaces included', async () => {
    const key = `run 2026-11-28 ${'x'.repeat(230)}`;
    const first = await submit({ 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect((await submit({ 'Idempotency-Key': key })).body.job_id).toBe(first.body.job_id);
  });
});
