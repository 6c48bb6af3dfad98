import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { JobRetentionService } from '../../src/jobs/job-retention.service';
import { MetricsService } from '../../src/metrics';
import { FakeQueueProvider, harness, makeMembers, QueueHarness, submitJob } from '../support/queue-fixtures';
import { ServiceModule, startServiceModule } from '../support/service-module';

const DAY = 86_400_000;

/**
 * Retention on PostgreSQL: exactly the terminal jobs that completed before the cutoff go, with every row stored for
 * them and their stored outputs; an active job never does, however old.
 */
describe('job retention', () => {
  let m: ServiceModule;
  let h: QueueHarness;
  let retention: JobRetentionService;

  beforeAll(async () => {
    m = await startServiceModule({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600', SIMPLETUNER_JOB_RETENTION_DAYS: '90' } });
    h = harness(m.module);
    h.registry.register(new FakeQueueProvider());
    retention = m.get(JobRetentionService);
  });
  afterAll(async () => {
    await m?.close();
  });

  /** A submitted job moved to `status`, completed `daysAgo` days ago (null: not completed), created long ago. */
  const seed = async (status: string, daysAgo: number | null): Promise<string> => {
    const [member] = await makeMembers(h.db, 1, 1);
    const job = await submitJob(h, member);
    const completedAt = daysAgo === null ? null : new Date(Date.now() - daysAgo * DAY);
    await h.db.query(
      `UPDATE jobs SET status = $2, completed_at = $3, created_at = now() - interval '400 days',
                       output_urls = '["https://example.com/o"]' WHERE job_id = $1`,
      [job.jobId, status, completedAt],
    );
    const entry = ['completed', 'failed', 'cancelled'].includes(status) ? status : 'running';
    await h.db.query(`UPDATE queue_entries SET status = $2 WHERE job_id = $1`, [job.jobId, entry]);
    await h.db.query(`INSERT INTO job_logs (job_id) VALUES ($1)`, [job.jobId]);
    await h.db.query(
      `INSERT INTO job_log_chunks (job_id, start_offset, end_offset, bytes, exact, head, text)
       VALUES ($1, 0, 5, 5, true, true, 'hello')`,
      [job.jobId],
    );
    await h.db.query(
      `INSERT INTO job_artifacts (artifact_id, job_id, user_id, org_id, provider, correlation_id, name, position,
                                  source_url, status)
       VALUES ($1, $2, $3, $4, 'fakeq', 'c', 'out.safetensors', 0, 'https://example.com/o', 'stored')`,
      [randomUUID(), job.jobId, member.id, member.orgId],
    );
    await h.db.query(
      `INSERT INTO approval_requests (job_id, user_id, org_id, required_approver_level, status, reason, expires_at)
       VALUES ($1, $2, $3, 'lead', 'approved', 'r', now())`,
      [job.jobId, member.id, member.orgId],
    );
    const stored = path.join(m.dataDir, 'artifacts', job.jobId);
    fs.mkdirSync(stored, { recursive: true });
    fs.writeFileSync(path.join(stored, 'out.safetensors'), 'weights');
    return job.jobId;
  };

  const count = async (table: string, ids: string[]) =>
    (await h.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE job_id = ANY($1::uuid[])`, [ids]))[0].n;

  it('deletes exactly the expired terminal jobs with their rows and files, never an active job', async () => {
    const expired = [await seed('completed', 100), await seed('failed', 91), await seed('cancelled', 365)];
    const kept = [
      await seed('completed', 89),
      await seed('running', null),
      await seed('pending', null),
      // An active status with an old completed_at (it cannot normally happen): still never deleted.
      await seed('running', 200),
    ];

    const summary = await retention.purgeExpired();
    expect(summary).toMatchObject({ days: 90, deleted: 3, batches: 1 });
    for (const table of ['jobs', 'queue_entries', 'job_logs', 'job_log_chunks', 'job_artifacts', 'approval_requests']) {
      expect([table, await count(table, expired)]).toEqual([table, 0]);
      expect([table, await count(table, kept)]).toEqual([table, kept.length]);
    }
    for (const id of expired) expect(fs.existsSync(path.join(m.dataDir, 'artifacts', id))).toBe(false);
    for (const id of kept) expect(fs.existsSync(path.join(m.dataDir, 'artifacts', id))).toBe(true);
    const metrics = await m.get(MetricsService).registry.getSingleMetricAsString('simpletuner_jobs_deleted_total');
    expect(metrics).toMatch(/simpletuner_jobs_deleted_total 3\b/);

    expect((await retention.purgeExpired()).deleted).toBe(0);
  });

  it('deletes the dataset uploads of the deleted jobs that no other job uses and that are old enough', async () => {
    const [member] = await makeMembers(h.db, 1, 1);
    const dir = path.join(m.dataDir, 'uploads');
    fs.mkdirSync(dir, { recursive: true });
    /** A simulator upload (row and file) made `daysAgo` days ago. */
    const upload = async (daysAgo: number): Promise<string> => {
      const id = randomUUID();
      fs.writeFileSync(path.join(dir, id), 'dataset');
      await h.db.query(
        `INSERT INTO uploads (id, user_id, org_id, provider, external_id, filename, content_type, size, sha256, url,
                              created_at)
         VALUES ($1::uuid, $2, $3, 'simulator', $1::text, 'd.zip', 'application/zip', 7, 'x', 'file:///d', now() - $4::interval)`,
        [id, member.id, member.orgId, `${daysAgo} days`],
      );
      return id;
    };
    const uses = async (jobId: string, uploadId: string) =>
      h.db.query(
        `UPDATE jobs SET dataset = jsonb_build_object('url', 'file:///d', 'upload_id', $2::text) WHERE job_id = $1`,
        [jobId, uploadId],
      );
    const onlyOld = await upload(200);
    const sharedWithKept = await upload(200);
    const recent = await upload(10);
    const [a, b, c] = [await seed('completed', 100), await seed('failed', 120), await seed('cancelled', 95)];
    await uses(a, onlyOld);
    await uses(b, sharedWithKept);
    await uses(c, recent);
    await uses(await seed('completed', 5), sharedWithKept);

    expect(await retention.purgeExpired()).toMatchObject({ deleted: 3, uploads_deleted: 1 });
    const left = (
      await h.db.query(`SELECT id FROM uploads WHERE id = ANY($1::uuid[])`, [[onlyOld, sharedWithKept, recent]])
    )
      .map((r: { id: string }) => r.id)
      .sort();
    expect(left).toEqual([sharedWithKept, recent].sort());
    expect(fs.existsSync(path.join(dir, onlyOld))).toBe(false);
    expect(fs.existsSync(path.join(dir, sharedWithKept))).toBe(true);
    expect(fs.existsSync(path.join(dir, recent))).toBe(true);
  });
});
