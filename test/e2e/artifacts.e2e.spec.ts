import * as fs from 'node:fs';
import * as path from 'node:path';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ArtifactCopyService } from '../../src/artifacts/artifact-copy.service';
import { completedJob, download, settledArtifacts, sha256 } from '../support/artifact-fixtures';
import { makeOrg, makeUser, type Actor } from '../support/approval-fixtures';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** A completed job's outputs, copied into the local store from the fake Replicate's file host (PostgreSQL). */
describe('artifacts in the local store', () => {
  let app: TestApp;
  let fake: FakeReplicate;
  let elsewhere: FakeReplicate;
  let viewer: Actor;
  let outsider: Actor;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    // Another host (same address, another port): not the provider's API host, not listed.
    elsewhere = await startFakeReplicate();
    app = await startTestApp({
      env: {
        REPLICATE_API_BASE: fake.url,
        REPLICATE_API_TOKEN: fake.token,
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
        SIMPLETUNER_ARTIFACT_COPY_INTERVAL: '1',
        SIMPLETUNER_ARTIFACT_COPY_ATTEMPTS: '2',
      },
    });
    const me = await http(app.url, 'GET', '/api/users/me', { key: app.adminKey });
    viewer = await makeUser(app, 'art-viewer', 'viewer', me.body.org_id);
    outsider = await makeUser(app, 'art-outsider', 'researcher', await makeOrg(app, 'art-other'));
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
    await elsewhere?.stop();
  });

  const artifactsDir = (jobId: string) => path.join(app.dataDir, 'artifacts', jobId);
  const db = () => app.app.get<DataSource>(getDataSourceToken());
  /** The payloads of the job's stored events of `type`, oldest first. */
  const eventsOf = async (jobId: string, type: string): Promise<Record<string, unknown>[]> =>
    (await db().query(`SELECT data FROM events WHERE job_id = $1 AND type = $2 ORDER BY id`, [jobId, type])).map(
      (r: { data: Record<string, unknown> }) => r.data,
    );
  const metric = async (line: RegExp) => {
    const text = (await http(app.url, 'GET', '/metrics')).text;
    return Number(line.exec(text)?.[1] ?? NaN);
  };

  it('copies every URL of a completed output (a string, lists, an object) and serves each as stored', async () => {
    fake.outputs.serve('/files/run1/weights/model.safetensors', {
      size: 300 * 1024 + 17,
      contentType: 'application/x-st',
    });
    fake.outputs.serve('/files/run1/a/image.png', { size: 2000, contentType: 'image/png' });
    const stored = await metric(/simpletuner_artifact_copies_total\{outcome="stored"\} (\d+)/);
    const output = {
      weights: fake.outputUrl('run1/weights/model.safetensors'),
      samples: [fake.outputUrl('run1/a/image.png'), fake.outputUrl('run1/b/image.png')],
      caption: 'not a URL',
    };
    const jobId = await completedJob(app, fake, output);
    const list = await settledArtifacts(app, jobId);
    expect(list.map((a) => [a.name, a.status])).toEqual([
      ['model.safetensors', 'stored'],
      ['image.png', 'stored'],
      ['image-2.png', 'stored'],
    ]);
    const model = fake.outputs.bytes('/files/run1/weights/model.safetensors');
    expect(list[0]).toMatchObject({
      size: model.length,
      sha256: sha256(model),
      content_type: 'application/x-st',
      error: null,
      created_at: expect.any(String),
    });
    expect(list[2].sha256).toBe(sha256(fake.outputs.bytes('/files/run1/b/image.png')));
    // The job shows them too, as its page of the list does (the same fields but the copy's error).
    const shown = list.map(({ error: _error, ...a }) => a);
    const job = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey });
    expect(job.body.artifacts).toEqual(shown);
    const page = await http(app.url, 'GET', '/api/cloud/jobs?limit=100', { key: app.adminKey });
    const row = page.body.jobs.find((j: { job_id: string }) => j.job_id === jobId);
    expect(row.artifacts).toEqual(shown);
    expect(
      page.body.jobs
        .filter((j: { job_id: string }) => j.job_id !== jobId)
        .map((j: { artifacts: unknown[] }) => j.artifacts),
    ).not.toContainEqual(shown);

    const whole = await download(app, jobId, 'model.safetensors');
    expect(whole.status).toBe(200);
    expect(whole.bytes.equals(model)).toBe(true);
    expect(whole.headers.get('content-length')).toBe(String(model.length));
    expect(whole.headers.get('content-type')).toBe('application/octet-stream');
    expect(whole.headers.get('etag')).toBe(`"${sha256(model)}"`);
    expect(whole.headers.get('content-disposition')).toBe('attachment; filename="model.safetensors"');
    // On disk: one file per artifact, no partial file left behind.
    expect(fs.readdirSync(artifactsDir(jobId))).toHaveLength(3);
    expect(await metric(/simpletuner_artifact_copies_total\{outcome="stored"\} (\d+)/)).toBe(stored + 3);
    // One event per artifact, in the order the copies (two at once) finished.
    const events = await eventsOf(jobId, 'artifact_stored');
    expect(events).toHaveLength(3);
    expect(events).toEqual(
      expect.arrayContaining(
        list.map((a) => expect.objectContaining({ name: a.name, size: a.size, sha256: a.sha256 })),
      ),
    );
  });

  it('answers a Range with 206 and that part, a range past the end with 416', async () => {
    const jobId = await completedJob(app, fake, fake.outputUrl('run2/lora.bin'));
    await settledArtifacts(app, jobId);
    const bytes = fake.outputs.bytes('/files/run2/lora.bin');
    const part = await download(app, jobId, 'lora.bin', { Range: 'bytes=100-1123' });
    expect(part.status).toBe(206);
    expect(part.bytes.equals(bytes.subarray(100, 1124))).toBe(true);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1123/${bytes.length}`);
    expect(part.headers.get('content-length')).toBe('1024');
    const tail = await download(app, jobId, 'lora.bin', { Range: 'bytes=-10' });
    expect([tail.status, tail.bytes.equals(bytes.subarray(-10))]).toEqual([206, true]);
    const past = await download(app, jobId, 'lora.bin', { Range: `bytes=${bytes.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    expect(JSON.parse(past.bytes.toString())).toMatchObject({
      error: 'range_not_satisfiable',
      details: { size: bytes.length },
    });
    // Several ranges are answered with the whole file.
    const several = await download(app, jobId, 'lora.bin', { Range: 'bytes=0-1,5-6' });
    expect([several.status, several.bytes.length]).toEqual([200, bytes.length]);
  });

  it('shows artifacts exactly to those who see the job: 404 for another organisation, reads for a viewer', async () => {
    const jobId = await completedJob(app, fake, fake.outputUrl('run3/model.bin'));
    await settledArtifacts(app, jobId);
    const asViewer = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/artifacts`, { key: viewer.key });
    expect(asViewer.body.map((a: { name: string }) => a.name)).toEqual(['model.bin']);
    const viewerFile = await fetch(`${app.url}/api/cloud/jobs/${jobId}/artifacts/model.bin`, {
      headers: { 'X-API-Key': viewer.key },
    });
    expect(viewerFile.status).toBe(200);
    await viewerFile.arrayBuffer();
    for (const route of ['artifacts', 'artifacts/model.bin']) {
      const res = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/${route}`, { key: outsider.key });
      expect([res.status, res.body.error]).toEqual([404, 'job_not_found']);
    }
    const unknown = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/artifacts/other.bin`, { key: app.adminKey });
    expect([unknown.status, unknown.body.error]).toEqual([404, 'not_found']);
  });

  it('answers 409 while an artifact is still being copied', async () => {
    fake.outputs.serve('/files/run4/slow.bin', { size: 256 * 1024, chunkSize: 16 * 1024, chunkDelayMs: 150 });
    const jobId = await completedJob(app, fake, fake.outputUrl('run4/slow.bin'));
    const res = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/artifacts/slow.bin`, { key: app.adminKey });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'conflict', details: { name: 'slow.bin' } });
    expect((await settledArtifacts(app, jobId))[0].status).toBe('stored');
  });

  it('records an output on an untrusted host as failed, never fetching it, even through a redirect', async () => {
    fake.outputs.serve('/files/run5/moved.bin', { redirectTo: elsewhere.outputUrl('run5/target.bin') });
    const failed = await metric(/simpletuner_artifact_copies_total\{outcome="failed"\} (\d+)/);
    const jobId = await completedJob(app, fake, [
      elsewhere.outputUrl('run5/direct.bin'),
      fake.outputUrl('run5/moved.bin'),
    ]);
    const list = await settledArtifacts(app, jobId);
    expect(list.map((a) => [a.name, a.status, a.error])).toEqual([
      ['direct.bin', 'failed', 'untrusted source'],
      ['moved.bin', 'failed', 'untrusted source'],
    ]);
    expect(elsewhere.outputs.count()).toBe(0);
    expect((await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey })).body.status).toBe(
      'completed',
    );
    expect(await metric(/simpletuner_artifact_copies_total\{outcome="failed"\} (\d+)/)).toBe(failed + 2);
    expect(await eventsOf(jobId, 'artifact_failed')).toEqual([
      expect.objectContaining({ name: 'direct.bin', error: 'untrusted source', attempts: 0 }),
      // Fetched once from the trusted host, whose answer redirected elsewhere.
      expect.objectContaining({ name: 'moved.bin', error: 'untrusted source', attempts: 1 }),
    ]);
  });

  it('retries a failing output with backoff, then ends it failed with its error; the job stays completed', async () => {
    fake.outputs.serve('/files/run6/flaky.bin', { failTimes: 1, status: 503 });
    fake.outputs.serve('/files/run6/broken.bin', { failTimes: 100, status: 500 });
    fake.outputs.serve('/files/run6/gone.bin', { failTimes: 100, status: 404 });
    const jobId = await completedJob(
      app,
      fake,
      ['flaky.bin', 'broken.bin', 'gone.bin'].map((f) => fake.outputUrl(`run6/${f}`)),
    );
    const copies = app.app.get(ArtifactCopyService);
    const state = async () =>
      (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/artifacts`, { key: app.adminKey })).body.map((a: any) => [
        a.name,
        a.status,
        a.error,
      ]);
    // The first try of each: a 404 cannot get better (failed at once); the others wait 10 s · 2⁰ ± 25%.
    const tried = () => ['flaky', 'broken', 'gone'].every((f) => fake.outputs.count(`/files/run6/${f}.bin`) > 0);
    for (let i = 0; i < 100 && !tried(); i++) await sleep(100);
    await copies.whenIdle();
    const host = new URL(fake.url).host;
    expect(await state()).toEqual([
      ['flaky.bin', 'pending', `HTTP 503 from ${host}`],
      ['broken.bin', 'pending', `HTTP 500 from ${host}`],
      ['gone.bin', 'failed', `HTTP 404 from ${host}`],
    ]);
    // As if the backoff had passed: the second and last try.
    await copies.copyDue(new Date(Date.now() + 60_000));
    await copies.whenIdle();
    expect(await state()).toEqual([
      ['flaky.bin', 'stored', null],
      ['broken.bin', 'failed', `HTTP 500 from ${host}`],
      ['gone.bin', 'failed', `HTTP 404 from ${host}`],
    ]);
    expect([fake.outputs.count('/files/run6/broken.bin'), fake.outputs.count('/files/run6/gone.bin')]).toEqual([2, 1]);
    expect((await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey })).body.status).toBe(
      'completed',
    );
    expect(await eventsOf(jobId, 'artifact_failed')).toEqual([
      expect.objectContaining({ name: 'gone.bin', error: `HTTP 404 from ${host}`, attempts: 1 }),
      expect.objectContaining({ name: 'broken.bin', error: `HTTP 500 from ${host}`, attempts: 2 }),
    ]);
  });

  it('retries a source that cuts the connection mid-file and keeps no partial file', async () => {
    fake.outputs.serve('/files/run7/cut.bin', { size: 512 * 1024, cutAfter: 128 * 1024 });
    const jobId = await completedJob(app, fake, fake.outputUrl('run7/cut.bin'));
    const copies = app.app.get(ArtifactCopyService);
    for (let i = 0; i < 100 && fake.outputs.count('/files/run7/cut.bin') === 0; i++) await sleep(100);
    await copies.whenIdle();
    const [row] = (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/artifacts`, { key: app.adminKey })).body;
    expect(row).toMatchObject({ status: 'pending', error: expect.any(String) });
    expect(fs.existsSync(artifactsDir(jobId)) ? fs.readdirSync(artifactsDir(jobId)) : []).toEqual([]);
    fake.outputs.serve('/files/run7/cut.bin', { size: 512 * 1024 });
    await copies.copyDue(new Date(Date.now() + 60_000));
    await copies.whenIdle();
    const [after] = await settledArtifacts(app, jobId);
    expect(after).toMatchObject({ status: 'stored', sha256: sha256(fake.outputs.bytes('/files/run7/cut.bin')) });
  });

  it('deletes the stored files and rows with the job', async () => {
    const jobId = await completedJob(app, fake, [fake.outputUrl('run8/a.bin'), fake.outputUrl('run8/b.bin')]);
    await settledArtifacts(app, jobId);
    expect(fs.readdirSync(artifactsDir(jobId))).toHaveLength(2);
    expect((await http(app.url, 'DELETE', `/api/cloud/jobs/${jobId}`, { key: app.adminKey })).status).toBe(200);
    expect(fs.existsSync(artifactsDir(jobId))).toBe(false);
    const res = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/artifacts`, { key: app.adminKey });
    expect([res.status, res.body.error]).toEqual([404, 'job_not_found']);
    const rows = await db().query(`SELECT count(*)::int AS n FROM job_artifacts WHERE job_id = $1`, [jobId]);
    expect(rows[0].n).toBe(0);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
