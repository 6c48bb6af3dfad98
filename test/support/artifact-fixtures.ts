import { createHash } from 'node:crypto';
import { JobSyncService } from '../../src/jobs/job-sync.service';
import type { FakeReplicate } from './fake-replicate';
import { http } from './http';
import type { TestApp } from './test-app';

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A Replicate job of the admin, dispatched to the fake and completed there with `output`, the app told by a poll. */
export async function completedJob(
  app: TestApp,
  fake: FakeReplicate,
  output: unknown,
  /** More submit fields (e.g. `hub_model_id`), over the defaults */
  body: Record<string, unknown> = {},
): Promise<string> {
  const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
    key: app.adminKey,
    body: { config_name: 'artifacts', config: {}, provider: 'replicate', ...body },
  });
  if (submit.status !== 201) throw new Error(`submit: ${submit.status} ${submit.text}`);
  const jobId = submit.body.job_id as string;
  const prediction = await dispatched(app, fake, jobId);
  prediction.output = output;
  await fake.setStatus(prediction.id, 'succeeded');
  await app.app.get(JobSyncService).syncActiveJobs(new Date(), { providers: ['replicate'] });
  const job = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey });
  if (job.body.status !== 'completed') throw new Error(`job ${jobId} is ${job.body.status}`);
  return jobId;
}

async function dispatched(app: TestApp, fake: FakeReplicate, jobId: string) {
  for (let i = 0; i < 50; i++) {
    const p = [...fake.predictions.values()].find((x) => x.input.job_id === jobId);
    if (p) return p;
    await http(app.url, 'POST', '/api/queue/process', { key: app.adminKey });
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${jobId} was not dispatched`);
}

/** The job's artifacts once none is pending or copying any more (what a user polling the list sees). */
export async function settledArtifacts(app: TestApp, jobId: string, key = app.adminKey, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/artifacts`, { key });
    if (list.status !== 200) throw new Error(`artifacts of ${jobId}: ${list.status} ${list.text}`);
    const busy = list.body.some((a: { status: string }) => a.status === 'pending' || a.status === 'copying');
    if (!busy || Date.now() > deadline) return list.body as Array<Record<string, any>>;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Downloads an artifact as bytes. */
export async function download(app: TestApp, jobId: string, name: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}/api/cloud/jobs/${jobId}/artifacts/${name}`, {
    headers: { 'X-API-Key': app.adminKey, ...headers },
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
