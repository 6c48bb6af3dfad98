import { JobSyncService } from '../../src/jobs/job-sync.service';
import type { FakePrediction, FakeReplicate } from './fake-replicate';
import { http, HttpResult } from './http';
import type { SseStream } from './sse-client';
import type { TestApp } from './test-app';

/**
 * The settings of an app on the fake Replicate where nothing runs on its own schedule: the test dispatches
 * (POST /api/queue/process), polls (JobSyncService) and follows logs itself.
 */
export function manualReplicateEnv(fake: FakeReplicate): Record<string, string> {
  return {
    REPLICATE_API_BASE: fake.url,
    REPLICATE_API_TOKEN: fake.token,
    SIMPLETUNER_QUEUE_INTERVAL: '3600',
    SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
    SIMPLETUNER_LOG_FOLLOW_INTERVAL: '3600',
  };
}

/** An admin's call to the app; `record` sees every answer (a test that checks what the API ever said). */
export type AdminCall = (method: string, path: string, opts?: Parameters<typeof http>[3]) => Promise<HttpResult>;

export function adminCall(app: () => TestApp, record?: (res: HttpResult) => void): AdminCall {
  return async (method, path, opts = {}) => {
    const res = await http(app().url, method, path, { key: app().adminKey, ...opts });
    record?.(res);
    return res;
  };
}

/** Polling switched off and limits high enough that a file's jobs never wait for each other. */
export async function allowManyManualJobs(call: AdminCall): Promise<void> {
  await call('PUT', '/api/cloud/polling/setting', { body: { enabled: false } });
  await call('PUT', '/api/queue/concurrency', {
    body: { max_concurrent: 50, user_max_concurrent: 50, org_max_concurrent: 50 },
  });
}

/**
 * Submits a job, dispatches it and brings it to `running` on the fake Replicate (one poll of a prediction set to
 * `processing`): what a test of logs or progress starts from.
 */
export async function runningReplicateJob(
  app: TestApp,
  fake: FakeReplicate,
  call: AdminCall,
  body: Record<string, unknown>,
): Promise<{ jobId: string; p: FakePrediction }> {
  const submit = await call('POST', '/api/cloud/jobs/submit', { body: { config: {}, ...body } });
  if (submit.status !== 201) throw new Error(`submit: ${submit.status} ${submit.text}`);
  const jobId = submit.body.job_id as string;
  await call('POST', '/api/queue/process');
  const p = await fake.waitForPrediction(jobId);
  if (!p) throw new Error(`no prediction for job ${jobId}`);
  // The dispatch records the prediction's id after the create answered: wait until the job shows it.
  for (let i = 0; i < 50 && (await call('GET', `/api/cloud/jobs/${jobId}`)).body.external_id !== p.id; i++)
    await new Promise((r) => setTimeout(r, 100));
  await fake.setStatus(p.id, 'processing');
  await app.app.get(JobSyncService).syncActiveJobs();
  const status = (await call('GET', `/api/cloud/jobs/${jobId}`)).body.status;
  if (status !== 'running') throw new Error(`job ${jobId} is ${status} after a poll of a processing prediction`);
  return { jobId, p };
}

/** The text a job log stream delivered, in order. */
export const logText = (s: SseStream): string =>
  s.messages
    .filter((m) => m.event === 'log')
    .map((m) => m.json.text as string)
    .join('');
