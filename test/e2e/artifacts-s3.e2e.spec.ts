import { completedJob, download, settledArtifacts, sha256 } from '../support/artifact-fixtures';
import { ArtifactCopyService } from '../../src/artifacts/artifact-copy.service';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { S3Server, startS3rver } from '../support/s3rver';
import { startTestApp, TestApp } from '../support/test-app';

const MiB = 1024 * 1024;

/** The same outputs kept in a real S3-compatible server (s3rver, started by the test), uploaded in parts. */
describe('artifacts in an S3-compatible bucket', () => {
  let app: TestApp;
  let fake: FakeReplicate;
  let s3: S3Server;

  beforeAll(async () => {
    [fake, s3] = await Promise.all([startFakeReplicate(), startS3rver()]);
    app = await startTestApp({
      env: {
        REPLICATE_API_BASE: fake.url,
        REPLICATE_API_TOKEN: fake.token,
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
        SIMPLETUNER_ARTIFACT_COPY_INTERVAL: '1',
        ...s3.env,
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
    await s3?.stop();
  });

  it('uploads each output whole (a 12 MiB one in parts) with the sha256 of what was read, and serves it back', async () => {
    fake.outputs.serve('/files/s3run1/model.safetensors', { size: 12 * MiB + 7 });
    const jobId = await completedJob(app, fake, [
      fake.outputUrl('s3run1/model.safetensors'),
      fake.outputUrl('s3run1/config.json'),
    ]);
    const list = await settledArtifacts(app, jobId);
    const model = fake.outputs.bytes('/files/s3run1/model.safetensors');
    const config = fake.outputs.bytes('/files/s3run1/config.json');
    expect(list.map((a) => [a.name, a.status, a.size, a.sha256])).toEqual([
      ['model.safetensors', 'stored', model.length, sha256(model)],
      ['config.json', 'stored', config.length, sha256(config)],
    ]);
    // In the bucket, as its own client reads it: two objects under the job's prefix, the bytes identical.
    const keys = await s3.keys(`${jobId}/`);
    expect(keys).toHaveLength(2);
    const stored = await Promise.all(keys.map((k) => s3.object(k)));
    expect(stored.map(sha256).sort()).toEqual([sha256(model), sha256(config)].sort());

    const whole = await download(app, jobId, 'model.safetensors');
    expect([whole.status, whole.headers.get('etag'), whole.bytes.equals(model)]).toEqual([
      200,
      `"${sha256(model)}"`,
      true,
    ]);
    const part = await download(app, jobId, 'model.safetensors', { Range: `bytes=${6 * MiB}-${6 * MiB + 99}` });
    expect(part.status).toBe(206);
    expect(part.bytes.equals(model.subarray(6 * MiB, 6 * MiB + 100))).toBe(true);
  });

  it('leaves no object behind when the source breaks off mid-upload, and stores it whole on the retry', async () => {
    fake.outputs.serve('/files/s3run2/big.bin', { size: 11 * MiB, cutAfter: 7 * MiB });
    const jobId = await completedJob(app, fake, fake.outputUrl('s3run2/big.bin'));
    const copies = app.app.get(ArtifactCopyService);
    for (let i = 0; i < 100 && fake.outputs.count('/files/s3run2/big.bin') === 0; i++) await sleep(100);
    await copies.whenIdle();
    const [row] = (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}/artifacts`, { key: app.adminKey })).body;
    expect(row).toMatchObject({ status: 'pending', error: expect.any(String) });
    expect(await s3.keys(`${jobId}/`)).toEqual([]);

    fake.outputs.serve('/files/s3run2/big.bin', { size: 11 * MiB });
    await copies.copyDue(new Date(Date.now() + 60_000));
    await copies.whenIdle();
    const [after] = await settledArtifacts(app, jobId);
    const bytes = fake.outputs.bytes('/files/s3run2/big.bin');
    expect(after).toMatchObject({ status: 'stored', size: bytes.length, sha256: sha256(bytes) });
    const keys = await s3.keys(`${jobId}/`);
    expect(keys).toHaveLength(1);
    expect((await s3.object(keys[0])).equals(bytes)).toBe(true);
  });

  it('deletes the objects with the job', async () => {
    const jobId = await completedJob(app, fake, [fake.outputUrl('s3run3/a.bin'), fake.outputUrl('s3run3/b.bin')]);
    await settledArtifacts(app, jobId);
    expect(await s3.keys(`${jobId}/`)).toHaveLength(2);
    expect((await http(app.url, 'DELETE', `/api/cloud/jobs/${jobId}`, { key: app.adminKey })).status).toBe(200);
    expect(await s3.keys(`${jobId}/`)).toEqual([]);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
