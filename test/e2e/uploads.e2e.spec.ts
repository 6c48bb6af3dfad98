import { AuthenticatedUser } from '../../src/auth';
import { UploadsService } from '../../src/uploads';
import { Actor, makeOrg, makeUser } from '../support/approval-fixtures';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { archive, eventually, startUpload } from '../support/upload-client';

const LIMIT = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** Dataset uploads to Replicate's files API (the fake), through the whole app on PostgreSQL. */
describe('dataset uploads to Replicate (PostgreSQL, fake Replicate)', () => {
  let fake: FakeReplicate;
  let app: TestApp;
  let orgId: string;
  let researcher: Actor;
  let colleague: Actor;
  let lead: Actor;
  let viewer: Actor;
  let outsiderLead: Actor;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    app = await startTestApp({
      env: {
        REPLICATE_API_TOKEN: fake.token,
        REPLICATE_API_BASE: fake.url,
        SIMPLETUNER_UPLOAD_MAX_BYTES: String(LIMIT),
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'ERROR',
      },
    });
    orgId = (await http(app.url, 'GET', '/api/users/me', { key: app.adminKey })).body.org_id;
    researcher = await makeUser(app, 'up_researcher', 'researcher', orgId);
    colleague = await makeUser(app, 'up_colleague', 'researcher', orgId);
    lead = await makeUser(app, 'up_lead', 'lead', orgId);
    viewer = await makeUser(app, 'up_viewer', 'viewer', orgId);
    outsiderLead = await makeUser(app, 'up_outsider', 'lead', await makeOrg(app, 'up_other_org'));
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });
  beforeEach(() => fake.reset());

  const upload = (key: string, data: Buffer, contentType = 'application/zip', query = 'filename=dataset.zip') =>
    http(app.url, 'POST', `/api/cloud/uploads?${query}`, {
      key,
      rawBody: data,
      headers: { 'Content-Type': contentType },
    });
  const listed = async (key: string) =>
    (await http(app.url, 'GET', '/api/cloud/uploads', { key })).body.uploads.map((u: any) => u.upload_id);

  it('streams the archive to the files API: the provider holds exactly the bytes sent, and the upload says where', async () => {
    const { data, sha256 } = archive(3 * 1024 * 1024 + 17);
    const res = await upload(researcher.key, data, 'application/zip', 'filename=faces.zip');
    expect(res.status).toBe(201);
    const [file] = [...fake.files.files.values()];
    expect(file).toMatchObject({ name: 'faces.zip', content_type: 'application/zip', size: data.length, sha256 });
    expect(res.body).toEqual({
      upload_id: expect.any(String),
      filename: 'faces.zip',
      size: data.length,
      sha256,
      content_type: 'application/zip',
      provider: 'replicate',
      user_id: researcher.id,
      url: `${fake.url}/files/${file.id}`,
      created_at: file.created_at,
      expires_at: file.expires_at,
    });
    // Sent as it came: multipart with a Content-Length, never gathered first.
    const sent = fake.requests.find((r) => r.method === 'POST' && r.path === '/files')!;
    expect(sent.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(Number(sent.headers['content-length'])).toBeGreaterThan(data.length);
    const got = await http(app.url, 'GET', `/api/cloud/uploads/${res.body.upload_id}`, { key: researcher.key });
    expect(got.body).toEqual(res.body);
    expect(await listed(researcher.key)).toContain(res.body.upload_id);
  });

  it('refuses a Content-Length over the limit with 413 before reading a byte of the body', async () => {
    const up = startUpload(app.url, '/api/cloud/uploads?filename=big.zip', {
      key: researcher.key,
      contentType: 'application/zip',
      contentLength: LIMIT + 1,
    });
    // Not a byte of the body is sent: the answer comes from the headers alone.
    const answer = await up.answer;
    up.leave();
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ error: 'payload_too_large', details: { limit_bytes: LIMIT } });
    expect(answer.body.correlation_id).toBe(answer.headers['x-correlation-id']);
    expect(answer.headers.connection).toBe('close');
    expect(fake.count('POST', /^\/files$/)).toBe(0);
    // Refused before the route runs (no key): answered at once too, and the unread body is never drained.
    const anonymous = startUpload(app.url, '/api/cloud/uploads?filename=big.zip', {
      key: 'st_' + 'x'.repeat(32),
      contentType: 'application/zip',
      contentLength: 50 * 1024 * 1024,
    });
    await anonymous.write(archive(CHUNK).data);
    const refused = await anonymous.answer;
    anonymous.leave();
    expect([refused.status, refused.body.error, refused.headers.connection]).toEqual([
      401,
      'authentication_error',
      'close',
    ]);
  });

  it('cuts off a chunked body that grows past the limit with 413, and nothing is kept anywhere', async () => {
    const before = await listed(app.adminKey);
    const up = startUpload(app.url, '/api/cloud/uploads?filename=grows.tar', {
      key: researcher.key,
      contentType: 'application/x-tar',
    });
    let sent = 0;
    while (sent < 2 * LIMIT && (await up.write(archive(CHUNK).data))) sent += CHUNK;
    const answer = await up.answer;
    up.leave();
    expect(answer.status).toBe(413);
    expect(answer.body.error).toBe('payload_too_large');
    expect(sent).toBeGreaterThan(LIMIT - 4 * CHUNK);
    // The provider saw the multipart body break off and kept nothing.
    await eventually(() => fake.files.incomplete === 1, 5000, 'the provider to see the upload break off');
    expect(fake.files.files.size).toBe(0);
    expect(await listed(app.adminKey)).toEqual(before);
  });

  it('refuses anything but a zip, tar or gzip archive with 415', async () => {
    for (const type of ['application/json', 'text/plain', 'application/x-zip-compressed']) {
      const res = await upload(researcher.key, Buffer.from('{"a":1}'), type);
      expect([type, res.status, res.body.error]).toEqual([type, 415, 'unsupported_media_type']);
    }
    const gz = await upload(researcher.key, archive(1000).data, 'application/gzip; charset=binary', 'filename=d.tgz');
    expect([gz.status, gz.body.content_type]).toEqual([201, 'application/gzip']);
    expect(fake.count('POST', /^\/files$/)).toBe(1);
  });

  it('keeps nothing of an upload whose client leaves halfway: no row, no file at the provider', async () => {
    const before = await listed(app.adminKey);
    const up = startUpload(app.url, '/api/cloud/uploads?filename=half.zip', {
      key: researcher.key,
      contentType: 'application/zip',
      contentLength: 3 * 1024 * 1024,
    });
    for (let i = 0; i < 16; i++) await up.write(archive(CHUNK).data);
    await eventually(() => fake.count('POST', /^\/files$/) === 1, 5000, 'the upload to reach the provider');
    up.leave();
    await eventually(() => fake.files.incomplete === 1, 5000, 'the provider to see the upload break off');
    expect(fake.files.files.size).toBe(0);
    expect(await listed(app.adminKey)).toEqual(before);
  });

  it('never holds clients that leave against Replicate: its circuit stays closed for the next upload', async () => {
    // Five failures in a row would open the circuit to Replicate (and stop job dispatch with it).
    for (let i = 1; i <= 6; i++) {
      const up = startUpload(app.url, '/api/cloud/uploads?filename=gone.zip', {
        key: researcher.key,
        contentType: 'application/zip',
        contentLength: 1024 * 1024,
      });
      for (let c = 0; c < 4; c++) await up.write(archive(CHUNK).data);
      await eventually(() => fake.count('POST', /^\/files$/) === i, 5000, `upload ${i} to reach the provider`);
      up.leave();
      await eventually(() => fake.files.incomplete === i, 5000, `upload ${i} to break off`);
    }
    const res = await upload(researcher.key, archive(4096).data);
    expect([res.status, res.body.provider]).toEqual([201, 'replicate']);
  });

  it('deletes the file at the provider when the client leaves after the provider has it', async () => {
    // The provider keeps the file at once but answers late: the client is gone by then.
    const before = await listed(app.adminKey);
    fake.stallNext(1, 1500, { method: 'POST', path: /^\/files$/ });
    const { data } = archive(512 * 1024);
    const up = startUpload(app.url, '/api/cloud/uploads?filename=late.zip', {
      key: researcher.key,
      contentType: 'application/zip',
      contentLength: data.length,
    });
    await up.write(data);
    await eventually(() => fake.files.files.size === 1, 5000, 'the provider to keep the file');
    const [id] = [...fake.files.files.keys()];
    up.leave();
    await eventually(() => fake.files.deleted.includes(id), 5000, 'the file to be deleted at the provider');
    expect(fake.files.files.size).toBe(0);
    expect(await listed(app.adminKey)).toEqual(before);
  });

  it('shows an upload to its owner, its organisation lead and admins only; a viewer cannot upload', async () => {
    const mine = (await upload(researcher.key, archive(2048).data)).body.upload_id;
    const path = `/api/cloud/uploads/${mine}`;
    for (const [who, key, status] of [
      ['owner', researcher.key, 200],
      ['lead of the org', lead.key, 200],
      ['viewer of the org', viewer.key, 200],
      ['admin', app.adminKey, 200],
      ['another researcher', colleague.key, 404],
      ['lead of another org', outsiderLead.key, 404],
    ] as const) {
      const res = await http(app.url, 'GET', path, { key });
      expect([who, res.status]).toEqual([who, status]);
    }
    expect(await listed(lead.key)).toContain(mine);
    expect(await listed(colleague.key)).not.toContain(mine);
    expect(await listed(outsiderLead.key)).not.toContain(mine);
    expect((await http(app.url, 'DELETE', path, { key: colleague.key })).status).toBe(404);
    const refused = await upload(viewer.key, archive(2048).data);
    expect([refused.status, refused.body.error]).toEqual([403, 'permission_denied']);
  });

  it('deletes an upload at the provider too; a provider failure is a 502 that keeps it', async () => {
    const res = await upload(researcher.key, archive(4096).data);
    const [fileId] = [...fake.files.files.keys()];
    const path = `/api/cloud/uploads/${res.body.upload_id}`;
    // Failing every attempt (the client retries a delete).
    fake.failNext(3, 500, { method: 'DELETE', path: /^\/files\// });
    const failed = await http(app.url, 'DELETE', path, { key: researcher.key });
    expect([failed.status, failed.body.error]).toEqual([502, 'provider_error']);
    expect((await http(app.url, 'GET', path, { key: researcher.key })).status).toBe(200);
    const deleted = await http(app.url, 'DELETE', path, { key: lead.key });
    expect(deleted.body).toEqual({ upload_id: res.body.upload_id, deleted: true });
    expect(fake.files.deleted).toContain(fileId);
    expect(fake.files.files.size).toBe(0);
    expect((await http(app.url, 'GET', path, { key: researcher.key })).status).toBe(404);
  });

  it('answers 502 when the files API fails an upload, and keeps nothing', async () => {
    const before = await listed(app.adminKey);
    fake.failNext(1, 500, { method: 'POST', path: /^\/files$/ });
    const res = await upload(researcher.key, archive(256 * 1024).data);
    expect([res.status, res.body.error, res.body.details]).toEqual([502, 'provider_error', { provider: 'replicate' }]);
    expect(fake.files.files.size).toBe(0);
    expect(await listed(app.adminKey)).toEqual(before);
  });

  it("gives a submit the provider URL of the submitter's own upload, never another's, nor an expired one", async () => {
    const service = app.app.get(UploadsService);
    const me = async (actor: Actor): Promise<AuthenticatedUser> => {
      const body = (await http(app.url, 'GET', '/api/users/me', { key: actor.key })).body;
      return { id: body.id, username: body.username, level: body.level, orgId: body.org_id, apiKeyId: 'k' };
    };
    const owner = await me(researcher);
    const id = (await upload(researcher.key, archive(1024).data)).body.upload_id;
    const [file] = [...fake.files.files.values()];
    await expect(service.datasetUrl(owner, id)).resolves.toBe(`${fake.url}/files/${file.id}`);
    // Not even a lead of the organisation submits with someone else's upload.
    for (const other of [await me(colleague), await me(lead)]) {
      await expect(service.datasetUrl(other, id)).rejects.toMatchObject({
        status: 404,
        details: { 'dataset.upload_id': 'not found' },
      });
    }
    fake.files.lifetimeMs = 1;
    const short = (await upload(researcher.key, archive(1024).data)).body;
    await eventually(() => Date.parse(short.expires_at) < Date.now(), 1000, 'the file to expire');
    await expect(service.datasetUrl(owner, short.upload_id)).rejects.toMatchObject({
      status: 400,
      code: 'validation_error',
      details: { 'dataset.upload_id': 'expired' },
    });
  });
});
