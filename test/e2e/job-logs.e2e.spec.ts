import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { JobLogsRepository } from '../../src/job-logs/job-logs.repository';
import { JobLogsService } from '../../src/job-logs/job-logs.service';
import { JobSyncService } from '../../src/jobs/job-sync.service';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import {
  adminCall,
  allowManyManualJobs,
  logText,
  manualReplicateEnv,
  runningReplicateJob,
} from '../support/running-jobs';
import { openSse, SseStream } from '../support/sse-client';
import { startTestApp, TestApp } from '../support/test-app';

const HF_TOKEN = 'hf_LogLeakCheckValue0123456789abcd';
const MAX_BYTES = 16 * 1024;

/** Stored job logs through the whole app: polls of the fake Replicate append, the routes read and stream. */
describe('job logs (PostgreSQL, fake Replicate)', () => {
  let fake: FakeReplicate;
  let app: TestApp;
  const streams: SseStream[] = [];
  const responses: string[] = [];

  const call = adminCall(
    () => app,
    (res) => responses.push(res.text),
  );
  const poll = () => app.app.get(JobSyncService).syncActiveJobs();
  const runningJob = (body: Record<string, unknown> = {}) =>
    runningReplicateJob(app, fake, call, { config_name: 'logs', ...body });

  beforeAll(async () => {
    fake = await startFakeReplicate();
    app = await startTestApp({
      env: {
        ...manualReplicateEnv(fake),
        SIMPLETUNER_SECRET_KEY: randomBytes(32).toString('base64'),
        SIMPLETUNER_JOB_LOG_MAX_BYTES: String(MAX_BYTES),
      },
    });
    await allowManyManualJobs(call);
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await app?.stop();
    await fake?.stop();
  });

  async function stream(
    jobId: string,
    opts: { headers?: Record<string, string>; query?: Record<string, string> } = {},
  ) {
    const s = await openSse(app.url, `/api/cloud/jobs/${jobId}/logs/stream`, { key: app.adminKey, ...opts });
    streams.push(s);
    expect(s.status).toBe(200);
    return s;
  }

  it('reads the last lines and continues from an offset with only what is new', async () => {
    const { jobId, p } = await runningJob();
    fake.appendLogs(p.id, 'loading model\ncaching latents\nepoch 1/3\n');
    await poll();
    const tail = await call('GET', `/api/cloud/jobs/${jobId}/logs?tail=2`);
    expect(tail.status).toBe(200);
    expect(tail.body).toEqual({
      job_id: jobId,
      offset: 'loading model\n'.length,
      next_offset: Buffer.byteLength(p.logs),
      text: 'caching latents\nepoch 1/3\n',
      truncated: false,
      complete: false,
    });

    // Polled twice with nothing new: the log is unchanged (only the new part is ever appended).
    await poll();
    fake.appendLogs(p.id, 'Steps:  10%|█         | 10/100 [00:10<01:30, 1.00it/s]\rSteps:  20%|██');
    await poll();
    const next = await call('GET', `/api/cloud/jobs/${jobId}/logs?offset=${tail.body.next_offset}`);
    // The unfinished last line waits for its end; the progress bar's redraw (a lone \r) is a line end.
    expect(next.body.text).toBe('Steps:  10%|█         | 10/100 [00:10<01:30, 1.00it/s]\r');
    fake.appendLogs(p.id, '        | 20/100\n');
    await poll();
    const rest = await call('GET', `/api/cloud/jobs/${jobId}/logs?offset=${next.body.next_offset}`);
    expect(rest.body).toMatchObject({ text: 'Steps:  20%|██        | 20/100\n', complete: false });
    expect(rest.body.next_offset).toBe(Buffer.byteLength(p.logs));
    const whole = await call('GET', `/api/cloud/jobs/${jobId}/logs?offset=0`);
    expect(whole.body.text).toBe(p.logs);

    const bad = await call('GET', `/api/cloud/jobs/${jobId}/logs?tail=10001`);
    expect(bad.status).toBe(400);
    expect(bad.body.details).toHaveProperty('tail');
    const both = await call('GET', `/api/cloud/jobs/${jobId}/logs?tail=5&offset=3`);
    expect(both.status).toBe(400);
    expect(both.body.details).toHaveProperty('offset');
  });

  it('streams the log, resumes after Last-Event-ID without gap or duplicate, and ends when the job does', async () => {
    const { jobId, p } = await runningJob();
    fake.appendLogs(p.id, 'one\ntwo\n');
    await poll();
    const first = await stream(jobId);
    await first.waitFor((s) => logText(s) === 'one\ntwo\n', 5000, 'the stored log');
    fake.appendLogs(p.id, 'three\n');
    await poll();
    await first.waitFor((s) => logText(s) === 'one\ntwo\nthree\n', 5000, 'the appended line, live');
    const lastId = first.messages.filter((m) => m.event === 'log').pop()!.id!;
    expect(Number(lastId)).toBe(Buffer.byteLength('one\ntwo\nthree\n'));
    await first.close();

    // Written while nobody streamed.
    fake.appendLogs(p.id, 'four\nfive\n');
    await poll();
    const resumed = await stream(jobId, { headers: { 'Last-Event-ID': lastId } });
    await resumed.waitFor((s) => logText(s) === 'four\nfive\n', 5000, 'what followed the last id');
    expect(resumed.messages[0].json.offset).toBe(Number(lastId));

    const tailed = await stream(jobId, { query: { tail: '2' } });
    await tailed.waitFor((s) => logText(s) === 'four\nfive\n', 5000, 'the last two lines');

    fake.appendLogs(p.id, 'six, unfinished');
    await fake.setStatus(p.id, 'succeeded');
    await poll();
    for (const s of [resumed, tailed]) {
      await s.waitFor((x) => x.ended, 8000, 'the end of the stream');
      expect(logText(s).endsWith('five\nsix, unfinished')).toBe(true);
      const end = s.messages[s.messages.length - 1];
      expect(end.event).toBe('end');
      expect(end.json).toEqual({
        type: 'end',
        job_id: jobId,
        status: 'completed',
        next_offset: Buffer.byteLength(p.logs),
      });
    }
    const done = await call('GET', `/api/cloud/jobs/${jobId}/logs?offset=0`);
    expect(done.body).toMatchObject({ text: p.logs, complete: true });

    // A stream of an ended job sends what is kept, then `end`.
    const late = await stream(jobId, { headers: { 'Last-Event-ID': lastId } });
    await late.waitFor((s) => s.ended, 5000, 'the end');
    expect(logText(late)).toBe('four\nfive\nsix, unfinished');
    expect(late.messages.map((m) => m.event)).toEqual(['log', 'end']);
  });

  it('keeps the start and the newest part of a long log, with the marker in between', async () => {
    const { jobId, p } = await runningJob();
    const line = (i: number) => `step ${String(i).padStart(5, '0')} ${'x'.repeat(190)}\n`;
    for (let batch = 0; batch < 10; batch++) {
      fake.appendLogs(p.id, Array.from({ length: 40 }, (_, i) => line(batch * 40 + i)).join(''));
      await poll();
    }
    const total = Buffer.byteLength(p.logs);
    expect(total).toBeGreaterThan(3 * MAX_BYTES);
    const whole = await call('GET', `/api/cloud/jobs/${jobId}/logs?offset=0`);
    expect(whole.body.truncated).toBe(true);
    expect(whole.body.next_offset).toBe(total);
    const match = /\[… (\d+) bytes omitted …\]\n/.exec(whole.body.text as string)!;
    expect(match).not.toBeNull();
    const [head, rest] = (whole.body.text as string).split(match[0]);
    expect(p.logs.startsWith(head)).toBe(true);
    expect(p.logs.endsWith(rest)).toBe(true);
    expect(head.length + Number(match[1]) + rest.length).toBe(total);
    expect(Buffer.byteLength(head + rest)).toBeLessThanOrEqual(MAX_BYTES);
    expect(Buffer.byteLength(head)).toBeGreaterThan(MAX_BYTES / 4);
    const tail = await call('GET', `/api/cloud/jobs/${jobId}/logs?tail=3`);
    expect(tail.body).toMatchObject({ text: line(397) + line(398) + line(399), truncated: false });
    const metrics = await http(app.url, 'GET', '/metrics');
    expect(Number(/^simpletuner_job_log_bytes_total (\d+)/m.exec(metrics.text)?.[1])).toBeGreaterThanOrEqual(total);
  });

  it('never reports as omitted a part appended between a read of the text and the read of the length', async () => {
    const { jobId, p } = await runningJob();
    fake.appendLogs(p.id, 'one\n');
    await poll();
    const repo = app.app.get(JobLogsRepository);
    const readLength = repo.consumed.bind(repo);
    // A real poll commits new lines right after the text was read and before its length is: the race a live
    // stream meets when the trainer prints while it reads.
    const spy = jest.spyOn(repo, 'consumed').mockImplementationOnce(async (ids) => {
      fake.appendLogs(p.id, 'two\n');
      await poll();
      return readLength(ids);
    });
    const from = Buffer.byteLength('one\n');
    const read = await app.app.get(JobLogsService).textAfter(jobId, from);
    spy.mockRestore();
    expect(read).toEqual({ offset: from, next: from + 4, text: 'two\n', truncated: false });
  });

  it('never gives back a secret the trainer printed: not in logs, the stream, the job or its events', async () => {
    const { jobId, p } = await runningJob({ secrets: { hf_token: HF_TOKEN } });
    const s = await stream(jobId);
    fake.appendLogs(p.id, `login ok\nusing token ${HF_TOKEN} for upload\nBearer abcdefgh12345678\nr8_Abcdefgh1234 x\n`);
    await poll();
    await s.waitFor((x) => logText(x).includes('upload'), 5000, 'the printed lines');
    fake.appendLogs(p.id, `push with ${HF_TOKEN.slice(0, 12)}`);
    await poll();
    fake.appendLogs(p.id, `${HF_TOKEN.slice(12)} done\n`);
    // The final poll: the job ends, its secrets are deleted in the same pass (after its log was redacted).
    await fake.setStatus(p.id, 'succeeded');
    await poll();
    await s.waitFor((x) => x.ended, 8000, 'the end');
    const reads = [
      await call('GET', `/api/cloud/jobs/${jobId}/logs?offset=0`),
      await call('GET', `/api/cloud/jobs/${jobId}/logs`),
      await call('GET', `/api/cloud/jobs/${jobId}`),
    ];
    expect(reads[0].body.text).toContain('using token [REDACTED] for upload');
    expect(reads[0].body.text).toContain('push with [REDACTED] done');
    const db = app.app.get(DataSource);
    const events = await db.query(`SELECT data FROM events WHERE job_id = $1`, [jobId]);
    const chunks = await db.query(`SELECT text FROM job_log_chunks WHERE job_id = $1`, [jobId]);
    for (const text of [s.raw, ...reads.map((r) => r.text), JSON.stringify(events), JSON.stringify(chunks)]) {
      for (const leak of [HF_TOKEN, 'abcdefgh12345678', 'r8_Abcdefgh1234']) expect(text).not.toContain(leak);
    }
    for (const text of responses) expect(text).not.toContain(HF_TOKEN);
  });

  it('is 404 for a job the caller may not see, on both routes', async () => {
    const { jobId } = await runningJob();
    const user = await call('POST', '/api/users', { body: { username: `r-${Date.now()}`, level: 'researcher' } });
    const key = (await call('POST', `/api/users/${user.body.id}/api-keys`, { body: { name: 'k' } })).body.key as string;
    const read = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/logs`, { key });
    expect(read.status).toBe(404);
    const s = await openSse(app.url, `/api/cloud/jobs/${jobId}/logs/stream`, { query: { api_key: key } });
    expect(s.status).toBe(404);
    expect(s.body.error).toBe('job_not_found');
  });
});

/** The embedded database: the same append and stream, woken in-process (no NOTIFY). */
describe('job logs (PGlite, fake Replicate)', () => {
  let fake: FakeReplicate;
  let app: TestApp;
  const call = adminCall(() => app);

  beforeAll(async () => {
    fake = await startFakeReplicate();
    app = await startTestApp({
      db: 'pglite',
      env: manualReplicateEnv(fake),
    });
    await allowManyManualJobs(call);
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  it('appends by poll, streams live and ends with the job', async () => {
    const key = app.adminKey;
    const { jobId, p } = await runningReplicateJob(app, fake, call, { config_name: 'l' });
    const poll = () => app.app.get(JobSyncService).syncActiveJobs();
    const s = await openSse(app.url, `/api/cloud/jobs/${jobId}/logs/stream`, { key });
    fake.appendLogs(p.id, 'a\nb\n');
    await poll();
    await s.waitFor((x) => x.messages.some((m) => m.event === 'log'), 5000, 'the first lines');
    fake.appendLogs(p.id, 'c\n');
    await fake.setStatus(p.id, 'succeeded');
    await poll();
    await s.waitFor((x) => x.ended, 8000, 'the end');
    expect(logText(s)).toBe('a\nb\nc\n');
    expect(s.messages[s.messages.length - 1].json).toMatchObject({ type: 'end', status: 'completed', next_offset: 6 });
    const read = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/logs`, { key });
    expect(read.body).toMatchObject({ offset: 0, next_offset: 6, text: 'a\nb\nc\n', complete: true });
  });
});
