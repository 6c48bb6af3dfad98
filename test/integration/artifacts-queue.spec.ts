import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ArtifactCopyService } from '../../src/artifacts/artifact-copy.service';
import { ArtifactsRepository } from '../../src/artifacts/artifacts.repository';
import { completedJob, sha256 } from '../support/artifact-fixtures';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/** The copy queue across two instances on one PostgreSQL database: handing a copy over, and taking over a dead one's. */
describe('the artifact copy queue on PostgreSQL', () => {
  let database: TestDatabase;
  let fake: FakeReplicate;
  let a: TestApp;
  let b: TestApp;

  // Ticks only when a test calls them.
  const env = () => ({
    REPLICATE_API_BASE: fake.url,
    REPLICATE_API_TOKEN: fake.token,
    SIMPLETUNER_QUEUE_INTERVAL: '3600',
    SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
    SIMPLETUNER_ARTIFACT_COPY_INTERVAL: '3600',
  });

  beforeAll(async () => {
    [database, fake] = await Promise.all([createTestDatabase(), startFakeReplicate()]);
    a = await startTestApp({ database, env: env() });
    b = await startTestApp({ database, env: { ...env(), SIMPLETUNER_ADMIN_API_KEY: a.adminKey } });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await fake?.stop();
    await database?.drop();
  });

  const db = () => b.app.get<DataSource>(getDataSourceToken());
  const row = async (jobId: string) =>
    (await db().query(`SELECT status, attempts, size, sha256 FROM job_artifacts WHERE job_id = $1`, [jobId]))[0];

  it('has no schema difference between the artifact entity and the migrated database', async () => {
    const log = await db().driver.createSchemaBuilder().log();
    expect(log.upQueries.map((q) => q.query).filter((q) => /job_artifacts|output_urls/.test(q))).toEqual([]);
  });

  it('hands a running copy back at shutdown (its try not counted), and another instance completes it', async () => {
    fake.outputs.serve('/files/q1/slow.bin', { size: 1024 * 1024, chunkSize: 16 * 1024, chunkDelayMs: 50 });
    const jobId = await completedJob(b, fake, fake.outputUrl('q1/slow.bin'));
    expect(await a.app.get(ArtifactCopyService).copyDue(new Date())).toMatchObject({ started: 1 });
    for (let i = 0; i < 50 && fake.outputs.count('/files/q1/slow.bin') === 0; i++) await sleep(100);
    await sleep(300);
    expect(await row(jobId)).toMatchObject({ status: 'copying', attempts: 1 });
    await a.stop();
    expect(await row(jobId)).toMatchObject({ status: 'pending', attempts: 0 });

    const copies = b.app.get(ArtifactCopyService);
    expect(await copies.copyDue(new Date())).toMatchObject({ requeued: 0, started: 1 });
    await copies.whenIdle();
    const bytes = fake.outputs.bytes('/files/q1/slow.bin');
    expect(await row(jobId)).toMatchObject({ status: 'stored', attempts: 1, sha256: sha256(bytes) });
  });

  it('takes over a copy whose holder stopped renewing its lease, and never one that is still held', async () => {
    const jobId = await completedJob(b, fake, fake.outputUrl('q2/model.bin'));
    // An instance claims the row and dies at once: nothing renews its lease.
    const [claimed] = await b.app.get(ArtifactsRepository).claimDue(new Date(), 1, 60);
    expect(claimed.jobId).toBe(jobId);
    const copies = b.app.get(ArtifactCopyService);
    expect(await copies.copyDue(new Date())).toMatchObject({ requeued: 0, started: 0 });
    expect(await row(jobId)).toMatchObject({ status: 'copying', attempts: 1 });

    // A minute later the lease has passed.
    await db().query(`UPDATE job_artifacts SET lease_until = now() - interval '1 second' WHERE job_id = $1`, [jobId]);
    expect(await copies.copyDue(new Date())).toMatchObject({ requeued: 1, started: 1 });
    await copies.whenIdle();
    const bytes = fake.outputs.bytes('/files/q2/model.bin');
    expect(await row(jobId)).toMatchObject({
      status: 'stored',
      attempts: 2,
      size: String(bytes.length),
      sha256: sha256(bytes),
    });
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
