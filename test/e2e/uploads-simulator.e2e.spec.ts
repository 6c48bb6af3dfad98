import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UploadsService } from '../../src/uploads';
import { Actor, makeUser } from '../support/approval-fixtures';
import { inTransaction, queryIn } from '../support/events';
import { http } from '../support/http';
import { openSse, SseStream } from '../support/sse-client';
import { TestClock } from '../support/test-clock';
import { startTestApp, TestApp } from '../support/test-app';
import { archive, eventually, startUpload } from '../support/upload-client';

/** Uploads kept by the simulator (no Replicate token), on the embedded database, and their progress events. */
describe('dataset uploads to the simulator (PGlite)', () => {
  let app: TestApp;
  let clock: TestClock;
  let researcher: Actor;
  let colleague: Actor;
  let folder: string;

  beforeAll(async () => {
    clock = new TestClock();
    app = await startTestApp({ db: 'pglite', clock, env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
    const orgId = (await http(app.url, 'GET', '/api/users/me', { key: app.adminKey })).body.org_id;
    researcher = await makeUser(app, 'sim_researcher', 'researcher', orgId);
    colleague = await makeUser(app, 'sim_colleague', 'researcher', orgId);
    folder = path.join(app.dataDir, 'uploads');
  });
  afterAll(() => app?.stop());

  const files = () => (fs.existsSync(folder) ? fs.readdirSync(folder).sort() : []);
  const upload = (key: string, data: Buffer, query = 'filename=set.tar') =>
    http(app.url, 'POST', `/api/cloud/uploads?${query}`, {
      key,
      rawBody: data,
      headers: { 'Content-Type': 'application/x-tar' },
    });

  it('keeps the archive byte for byte under <data dir>/uploads/, for a day, and deletes it', async () => {
    const { data, sha256 } = archive(1024 * 1024 + 3);
    const res = await upload(researcher.key, data);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      provider: 'simulator',
      size: data.length,
      sha256,
      content_type: 'application/x-tar',
    });
    const kept = fileURLToPath(res.body.url);
    expect(kept).toBe(path.join(folder, res.body.upload_id));
    expect(createHash('sha256').update(fs.readFileSync(kept)).digest('hex')).toBe(sha256);
    expect(Date.parse(res.body.expires_at) - Date.parse(res.body.created_at)).toBe(24 * 3600 * 1000);
    const deleted = await http(app.url, 'DELETE', `/api/cloud/uploads/${res.body.upload_id}`, { key: researcher.key });
    expect(deleted.status).toBe(200);
    expect(fs.existsSync(kept)).toBe(false);
  });

  it('refuses Replicate as the provider while no token is configured', async () => {
    const res = await upload(researcher.key, archive(1024).data, 'filename=set.tar&provider=replicate');
    expect([res.status, res.body.error, res.body.details]).toEqual([
      400,
      'validation_error',
      { provider: 'not configured' },
    ]);
  });

  it('leaves no file and no row behind a client that leaves mid-upload', async () => {
    const before = files();
    const rows = (await http(app.url, 'GET', '/api/cloud/uploads', { key: app.adminKey })).body.total;
    const up = startUpload(app.url, '/api/cloud/uploads?filename=half.tar', {
      key: researcher.key,
      contentType: 'application/x-tar',
      contentLength: 2 * 1024 * 1024,
    });
    for (let i = 0; i < 8; i++) await up.write(archive(64 * 1024).data);
    await eventually(() => files().some((f) => f.endsWith('.part')), 5000, 'the part file to be written');
    up.leave();
    await eventually(() => files().length === before.length, 5000, 'the part file to be removed');
    expect(files()).toEqual(before);
    expect((await http(app.url, 'GET', '/api/cloud/uploads', { key: app.adminKey })).body.total).toBe(rows);
  });

  it("sends upload_progress to the uploader's streams, at most twice a second", async () => {
    const mine: SseStream = await openSse(app.url, '/api/events', { key: researcher.key });
    const theirs: SseStream = await openSse(app.url, '/api/events', { key: colleague.key });
    try {
      const chunk = 64 * 1024;
      const total = 14 * chunk;
      const up = startUpload(app.url, '/api/cloud/uploads?filename=slow.tar', {
        key: researcher.key,
        contentType: 'application/x-tar',
        contentLength: total,
      });
      const started = Date.now();
      // About 2.6 s of upload: a chunk every 200 ms.
      for (let i = 0; i < 14; i++) {
        await up.write(archive(chunk).data);
        await new Promise((r) => setTimeout(r, 200));
      }
      const answer = await up.answer;
      const seconds = (Date.now() - started) / 1000;
      expect(answer.status).toBe(201);
      const id = answer.body.upload_id as string;
      const progress = () => mine.messages.filter((m) => m.event === 'upload_progress').map((m) => m.json);
      await mine.waitFor(() => progress().length >= 3, 5000, 'progress events');
      const events = progress();
      expect(events.every((e) => e.upload_id === id && e.total_bytes === total)).toBe(true);
      const received = events.map((e) => e.bytes_received as number);
      expect(received).toEqual([...received].sort((a, b) => a - b));
      expect(received[received.length - 1]).toBeLessThanOrEqual(total);
      // Two a second at most over the whole upload, and never three within a second of each other (by the time each
      // was stored; a few ms of scheduling between the decision and the insert are allowed).
      expect(events.length).toBeLessThanOrEqual(Math.floor(seconds * 2) + 1);
      const stored = (await inTransaction(app.app, () =>
        queryIn(
          app.app,
          `SELECT created_at FROM events WHERE type = 'upload_progress' AND data->>'upload_id' = $1 ORDER BY id`,
          [id],
        ),
      )) as { created_at: Date }[];
      const at = stored.map((r) => new Date(r.created_at).getTime());
      expect(at.length).toBe(events.length);
      for (let i = 2; i < at.length; i++) expect(at[i] - at[i - 2]).toBeGreaterThanOrEqual(950);
      // Another researcher of the same organisation sees none of it.
      expect(theirs.messages.filter((m) => m.event === 'upload_progress')).toEqual([]);
    } finally {
      await mine.close();
      await theirs.close();
    }
  });

  it("gives a submit its own upload's URL until the upload expires, and nobody else's", async () => {
    const service = app.app.get(UploadsService);
    const body = (await upload(researcher.key, archive(4096).data)).body;
    const user = (await http(app.url, 'GET', '/api/users/me', { key: researcher.key })).body;
    const owner = { id: user.id, username: user.username, level: user.level, orgId: user.org_id, apiKeyId: 'k' };
    await expect(service.datasetUrl(owner, body.upload_id)).resolves.toBe(body.url);
    await expect(service.datasetUrl({ ...owner, id: colleague.id }, body.upload_id)).rejects.toMatchObject({
      status: 404,
      details: { 'dataset.upload_id': 'not found' },
    });
    await expect(service.datasetUrl(owner, 'not-an-id')).rejects.toMatchObject({ status: 404 });
    clock.set(Date.parse(body.expires_at) + 1);
    try {
      await expect(service.datasetUrl(owner, body.upload_id)).rejects.toMatchObject({
        status: 400,
        details: { 'dataset.upload_id': 'expired' },
      });
    } finally {
      clock.release();
    }
  });
});
