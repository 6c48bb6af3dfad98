import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateApiKey } from '../../src/auth/api-key.util';
import { sha256 } from '../support/artifact-fixtures';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { spawnApp, SpawnedApp } from '../support/spawn-app';
import { makeTempDir } from '../support/test-app';

const FILE = '/files/restart/model.safetensors';

/**
 * The service killed (SIGKILL) in the middle of a slow copy, on the embedded database: started again on the same data
 * folder, it copies the output from the beginning, replacing the partial file, and the stored bytes are the source's.
 */
describe('a copy cut off by a crash', () => {
  const dataDir = makeTempDir('st-artifacts-restart-');
  const adminKey = generateApiKey();
  let fake: FakeReplicate;
  let running: SpawnedApp | null = null;

  beforeAll(async () => {
    fake = await startFakeReplicate();
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    await fake?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<string> {
    running = spawnApp({
      SIMPLETUNER_DATA_DIR: dataDir,
      PORT: '0',
      SIMPLETUNER_ENTERPRISE_CONFIG: '',
      SIMPLETUNER_ADMIN_API_KEY: adminKey,
      SIMPLETUNER_LOG_LEVEL: 'INFO',
      REPLICATE_API_BASE: fake.url,
      REPLICATE_API_TOKEN: fake.token,
      SIMPLETUNER_QUEUE_INTERVAL: '1',
      SIMPLETUNER_JOB_POLL_INTERVAL: '1',
      SIMPLETUNER_ARTIFACT_COPY_INTERVAL: '1',
    });
    await running.waitForOutput(/listening on http:\/\/[\d.]+:\d+/, 150_000);
    return /listening on (http:\/\/[\d.]+:\d+)/.exec(running.stdout())![1];
  }

  const artifacts = async (url: string, jobId: string) =>
    (await http(url, 'GET', `/api/cloud/jobs/${jobId}/artifacts`, { key: adminKey })).body;

  async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await fn();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('resumes after a restart and stores the same bytes', async () => {
    // 2 MiB in 16 KiB chunks every 50 ms: about 6 s to copy.
    fake.outputs.serve(FILE, { size: 2 * 1024 * 1024, chunkSize: 16 * 1024, chunkDelayMs: 50 });
    let url = await start();
    const submit = await http(url, 'POST', '/api/cloud/jobs/submit', {
      key: adminKey,
      body: { config_name: 'restart', config: {} },
    });
    expect(submit.status).toBe(201);
    const jobId = submit.body.job_id as string;
    const prediction = await until('the dispatch', () => fake.waitForPrediction(jobId, 1000), 30_000);
    prediction.output = [fake.outputUrl('restart/model.safetensors')];
    await fake.setStatus(prediction.id, 'succeeded');

    // Mid-copy: the source is being read and the row says so; then the process dies without a word.
    await until('the copy to start', async () => fake.outputs.count(FILE) === 1, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await artifacts(url, jobId))[0].status).toBe('copying');
    running!.child.kill('SIGKILL');
    await running!.exited;
    const folder = path.join(dataDir, 'artifacts', jobId);
    const partial = fs.readdirSync(folder);
    expect(partial).toEqual([expect.stringMatching(/\.partial$/)]);
    expect(fs.statSync(path.join(folder, partial[0])).size).toBeLessThan(2 * 1024 * 1024);

    url = await start();
    const [stored] = await until(
      'the artifact to be stored',
      async () => {
        const list = await artifacts(url, jobId);
        return list[0]?.status === 'stored' && list;
      },
      60_000,
    );
    const bytes = fake.outputs.bytes(FILE);
    expect(stored).toMatchObject({ name: 'model.safetensors', size: bytes.length, sha256: sha256(bytes) });
    expect(fake.outputs.count(FILE)).toBe(2);
    const file = await fetch(`${url}/api/cloud/jobs/${jobId}/artifacts/model.safetensors`, {
      headers: { 'X-API-Key': adminKey },
    });
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    // The partial file was replaced: one complete file is left.
    expect(fs.readdirSync(folder)).toEqual([expect.not.stringMatching(/\.partial$/)]);
    expect(running!.stdout()).toMatch(/Resuming 1 output copies whose holder stopped/);
  }, 400_000);
});
