import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir } from '../support/test-app';
import { checkResponses, coverageGaps } from './contract-check';
import type { RecordedResponse } from './recorder';

/** The check itself: it must fail on a response the document does not describe, or a wrong document. */
const ROOT = path.resolve(__dirname, '..', '..');
const committed = () => JSON.parse(fs.readFileSync(path.join(ROOT, 'openapi.json'), 'utf8'));

const JOB_ID = '3f1c2b9e-8a4d-4c6e-9b1a-2d7e5f0a1c3b';
const submitted = {
  job_id: JOB_ID,
  status: 'pending',
  requires_approval: false,
  cost_estimate: 3.5,
  queue_position: 1,
  dataloader_config: null,
  lycoris_config: null,
  dataset: null,
  hub_model_id: null,
  max_train_steps: null,
  secrets: [],
};
const record = (over: Partial<RecordedResponse>): RecordedResponse => ({
  method: 'POST',
  path: '/api/cloud/jobs/submit',
  status: 201,
  contentType: 'application/json; charset=utf-8',
  body: submitted,
  testPath: 'contract-check.spec.ts',
  ...over,
});
const problems = (doc: object, records: RecordedResponse[]) =>
  checkResponses(doc, records).violations.map((v) => v.problem);

describe('the contract check', () => {
  it('accepts a response the document describes, and counts it as exercised', () => {
    const { violations, exercised } = checkResponses(committed(), [record({})]);
    expect(violations).toEqual([]);
    expect([...exercised]).toEqual(['POST /api/cloud/jobs/submit 201']);
  });

  it('fails when the schema is deliberately wrong', () => {
    const wrong = committed();
    wrong.components.schemas.SubmittedJobView.properties.job_id = { type: 'integer' };
    expect(problems(wrong, [record({})])).toEqual(['body/job_id must be integer']);
  });

  it('fails on a field, a status, a media type or a route the document does not describe', () => {
    const doc = committed();
    expect(problems(doc, [record({ body: { ...submitted, surprise: 1 } })])).toEqual([
      'body must NOT have additional properties ("surprise")',
    ]);
    expect(problems(doc, [record({ status: 418 })])).toEqual([
      'status 418 is not documented for POST /api/cloud/jobs/submit',
    ]);
    expect(problems(doc, [record({ contentType: 'text/plain', body: undefined })])).toEqual([
      'content type text/plain is not documented (application/json)',
    ]);
    expect(problems(doc, [record({ method: 'GET', path: '/api/nowhere', status: 200, body: { ok: true } })])).toEqual([
      'no documented operation, and not an API error body ({"ok":true})',
    ]);
    expect(
      problems(doc, [
        record({ status: 404, path: '/api/nowhere', body: { error: 'not_found', message: 'm', correlation_id: 'c' } }),
      ]),
    ).toEqual([]);
  });

  it('fails on an event the stream documentation does not list', () => {
    const stream = (text: string) =>
      record({
        method: 'GET',
        path: '/api/events',
        status: 200,
        contentType: 'text/event-stream',
        body: undefined,
        stream: text,
      });
    const ok = ': connected\n\nid: 7\nevent: job_submitted\ndata: {"type":"job_submitted","job_id":"j"}\n\n';
    expect(problems(committed(), [stream(ok)])).toEqual([]);
    expect(problems(committed(), [stream('id: 8\nevent: job_exploded\ndata: {"type":"job_exploded"}\n\n')])).toEqual([
      'event "job_exploded" is not documented in x-sse-events',
    ]);
  });

  it('checks error bodies against the codes documented for the status', () => {
    const error = (code: string) => ({ error: code, message: 'no', correlation_id: 'abc123def456' });
    const doc = committed();
    expect(problems(doc, [record({ status: 409, body: error('conflict') })])).toEqual([]);
    expect(problems(doc, [record({ status: 409, body: error('invalid_job_state') })])).toHaveLength(1);
    expect(problems(doc, [record({ status: 401, body: { error: 'authentication_error' } })])[0]).toMatch(
      /required property 'message'/,
    );
  });

  it('reports documented statuses never exercised, and listed exemptions that are not true', () => {
    const doc = committed();
    const exercised = new Set(['POST /api/cloud/jobs/submit 201']);
    const { missing, stale } = coverageGaps(doc, exercised, [
      { operation: 'POST /api/cloud/jobs/submit', status: 201, reason: 'exercised after all' },
      { operation: 'GET /api/nowhere', status: 200, reason: 'not documented' },
      { operation: 'POST /api/cloud/jobs/submit', status: 422, reason: 'listed' },
    ]);
    expect(missing).toContain('POST /api/cloud/jobs/submit 409');
    expect(missing).not.toContain('POST /api/cloud/jobs/submit 422');
    expect(stale).toEqual(['POST /api/cloud/jobs/submit 201', 'GET /api/nowhere 200']);
  });

  it('fails the Jest run through its reporter when a recorded response breaks the document', () => {
    // The reporter sets the folder for the recorders of the run it reports on: keep this worker's own.
    const saved = process.env.CONTRACT_RECORD_DIR;
    const root = makeTempDir('st-contract-root-');
    try {
      const wrong = committed();
      wrong.components.schemas.SubmittedJobView.required.push('not_in_the_answer');
      fs.writeFileSync(path.join(root, 'openapi.json'), JSON.stringify(wrong));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const Reporter = require('./contract-reporter');
      const reporter = new Reporter({ rootDir: root, testPathPattern: 'one-file' });
      fs.writeFileSync(
        path.join(process.env.CONTRACT_RECORD_DIR!, 'worker-x.ndjson'),
        `${JSON.stringify(record({}))}\n`,
      );
      const printed: string[] = [];
      const write = jest.spyOn(process.stdout, 'write').mockImplementation((text) => printed.push(String(text)) > 0);
      const results = { success: true };
      try {
        reporter.onRunComplete(new Set(), results);
      } finally {
        write.mockRestore();
      }
      expect(reporter.getLastError()).toBeInstanceOf(Error);
      expect(results.success).toBe(false);
      expect(printed.join('')).toContain("must have required property 'not_in_the_answer'");
    } finally {
      process.env.CONTRACT_RECORD_DIR = saved;
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
