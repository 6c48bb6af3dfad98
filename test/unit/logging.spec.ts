import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import {
  configureStructuredLogging,
  initFromEnv,
  flushLogs,
  getCorrelationId,
  getLogger,
  LogContext,
  runWithCorrelationId,
  setCorrelationId,
  clearCorrelationId,
} from '../../src/logging';
import { closeLogFile, currentLogFile } from '../../src/logging/sinks';
import { transformerFactory } from '../../tools/log-callsite-transformer';

// Line numbers of the marked log calls in this very file: `source.line` must point at them.
const SELF = fs.readFileSync(__filename, 'utf8').split('\n');
const lineOf = (marker: string) => SELF.findIndex((l) => l.includes(`// ${marker}`) && !l.includes('lineOf(')) + 1;

const log = getLogger('simpletuner.cloud.jobs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let file: string;
function configure(extra: Partial<Parameters<typeof configureStructuredLogging>[0]> = {}) {
  configureStructuredLogging({ level: 'DEBUG', logFile: file, stdout: false, ...extra });
}
async function readLines(): Promise<string[]> {
  await flushLogs();
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
}
const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, any>);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-log-'));
  file = path.join(dir, 'nested', 'folder', 'cloud.log'); // the folder is created
  configure();
});
afterEach(async () => {
  // Closed (and so opened) before its folder goes: else a file still opening fails with ENOENT on stderr.
  await closeLogFile(currentLogFile());
  configureStructuredLogging({ level: 'ERROR', logFile: null, stdout: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

async function processJob(jobId: string, provider: string): Promise<void> {
  await LogContext.run({ job_id: jobId, provider }, async () => {
    log.info('Starting job processing'); // L-start
    await LogContext.run({ step: 'validation' }, async () => {
      await sleep(2);
      log.info('Validating configuration'); // L-validate
    });
    await LogContext.run(
      { step: 'submission' },
      () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            log.debug('Submitting to provider', { attempt: 1 }); // L-submit
            resolve();
          }, 1),
        ),
    );
    await Promise.resolve().then(() => log.info('Job submitted successfully', { cost_estimate: 2.5 })); // L-done
  });
}

describe('structured JSON lines', () => {
  it('writes each line with the keys in order, the TypeScript call site and the nested LogContext fields', async () => {
    await runWithCorrelationId('abc123def456', () => processJob('xyz789', 'replicate'));
    log.info('Outside any context'); // L-outside
    const raw = await readLines();
    const lines = parse(raw);
    const src = (marker: string, fn: string) => ({ file: 'logging.spec.ts', line: lineOf(marker), function: fn });
    const base = { level: 'INFO', logger: 'simpletuner.cloud.jobs', correlation_id: 'abc123def456' };
    const ts = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(lines).toEqual([
      {
        timestamp: ts,
        ...base,
        message: 'Starting job processing',
        source: src('L-start', 'processJob'),
        extra: { job_id: 'xyz789', provider: 'replicate' },
      },
      {
        timestamp: ts,
        ...base,
        message: 'Validating configuration',
        source: src('L-validate', 'processJob'),
        extra: { job_id: 'xyz789', provider: 'replicate', step: 'validation' },
      },
      {
        timestamp: ts,
        ...base,
        level: 'DEBUG',
        message: 'Submitting to provider',
        source: src('L-submit', 'processJob'),
        extra: { job_id: 'xyz789', provider: 'replicate', step: 'submission', attempt: 1 },
      },
      {
        timestamp: ts,
        ...base,
        message: 'Job submitted successfully',
        source: src('L-done', 'processJob'),
        extra: { job_id: 'xyz789', provider: 'replicate', cost_estimate: 2.5 },
      },
      {
        timestamp: ts,
        ...base,
        correlation_id: null,
        message: 'Outside any context',
        source: src('L-outside', '<anonymous>'),
        extra: {},
      },
    ]);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(['timestamp', 'level', 'logger', 'message', 'correlation_id', 'source', 'extra']);
      expect(Object.keys(l.source)).toEqual(['file', 'line', 'function']);
    }
    // Python json.dumps separators: the README's grep works on the raw text.
    expect(raw.filter((l) => l.includes('"correlation_id": "abc123def456"'))).toHaveLength(4);
    expect(raw[0]).toMatch(
      /^\{"timestamp": "[^"]+", "level": "INFO", "logger": "simpletuner\.cloud\.jobs", "message": /,
    );
  });

  it('lets the inner scope win for a shared key and restores the outer fields on leaving it', async () => {
    await runWithCorrelationId('c1', () =>
      LogContext.run({ step: 'outer', job_id: 'j' }, async () => {
        await LogContext.run({ step: 'inner' }, async () => {
          log.info('in', { step: 'call' });
          log.info('in2');
        });
        log.info('out');
      }),
    );
    const lines = parse(await readLines());
    expect(lines.map((l) => [l.message, l.extra])).toEqual([
      ['in', { step: 'call', job_id: 'j' }],
      ['in2', { step: 'inner', job_id: 'j' }],
      ['out', { step: 'outer', job_id: 'j' }],
    ]);
  });

  it('shows LogContext fields on every line of the scope: redacted, a call field in place, objects as they are now', async () => {
    const limits = { max: 1 };
    await runWithCorrelationId('c2', () =>
      LogContext.run({ job_id: 'j', api_key: 'k-1', note: 'token=abc123xyz' }, async () => {
        for (let i = 0; i < 2; i++) log.info('password=hunter2 in a message', { attempt: i });
        log.info('call field', { note: 'from the call' });
        await LogContext.run({ limits }, async () => {
          log.info('object 1');
          limits.max = 2;
          log.info('object 2');
        });
      }),
    );
    const lines = parse(await readLines());
    const redacted = { job_id: 'j', api_key: '[REDACTED]', note: 'token=[REDACTED]' };
    expect(lines.map((l) => [l.message, l.extra])).toEqual([
      ['password=[REDACTED] in a message', { ...redacted, attempt: 0 }],
      ['password=[REDACTED] in a message', { ...redacted, attempt: 1 }],
      ['call field', { ...redacted, note: 'from the call' }],
      ['object 1', { ...redacted, limits: { max: 1 } }],
      ['object 2', { ...redacted, limits: { max: 2 } }],
    ]);
    expect(Object.keys(lines[2].extra)).toEqual(['job_id', 'api_key', 'note']);
  });

  it('keeps concurrent flows apart: each line carries its own id and fields', async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        runWithCorrelationId(`flow-${i}`, () =>
          LogContext.run({ flow: i }, async () => {
            await sleep(Math.random() * 5);
            log.info('a');
            await new Promise((r) => setImmediate(r));
            log.info('b');
          }),
        ),
      ),
    );
    const lines = parse(await readLines());
    expect(lines).toHaveLength(100);
    for (const l of lines) expect(l.correlation_id).toBe(`flow-${l.extra.flow}`);
  });

  it('turns extra.error into exception (stack at ERROR, not at WARNING unless includeStackInfo)', async () => {
    const err = new TypeError('bad input');
    log.error('Error in job polling', { error: err, job_id: 'j1' });
    log.warning('Failed to sync job j1', { error: err });
    log.warning('Thrown string', { error: 'plain' });
    configure({ includeStackInfo: true });
    log.warning('with stack', { error: err });
    const lines = parse(await readLines());
    expect(Object.keys(lines[0])).toEqual([
      'timestamp',
      'level',
      'logger',
      'message',
      'correlation_id',
      'source',
      'extra',
      'exception',
    ]);
    expect(lines[0].extra).toEqual({ job_id: 'j1' });
    expect(lines[0].exception).toEqual({
      type: 'TypeError',
      message: 'bad input',
      stack: expect.stringContaining('TypeError: bad input'),
    });
    expect(lines[1].exception).toEqual({ type: 'TypeError', message: 'bad input' });
    expect(lines[2].exception).toEqual({ type: 'string', message: 'plain' });
    expect(lines[3].exception.stack).toContain('logging.spec.ts');
  });

  it('filters by level and names the five levels', async () => {
    configure({ level: 'warning' });
    log.debug('d');
    log.info('i');
    log.warning('w');
    log.error('e');
    log.critical('c');
    expect(parse(await readLines()).map((l) => l.level)).toEqual(['WARNING', 'ERROR', 'CRITICAL']);
    expect(() => configure({ level: 'LOUD' })).toThrow(/Unknown log level/);
  });

  it('writes the text format in UTC with key=value pairs', async () => {
    configure({ jsonOutput: false });
    runWithCorrelationId('abc123def456', () =>
      LogContext.run({ job_id: 'xyz789', provider: 'replicate' }, () =>
        log.info('Job submitted successfully', { cost_estimate: 2.5, note: 'two words' }),
      ),
    );
    log.warning('boot\nline');
    const [a, b] = await readLines();
    expect(a).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[INFO\] simpletuner\.cloud\.jobs \(abc123def456\): Job submitted successfully job_id=xyz789 provider=replicate cost_estimate=2\.5 note="two words"$/,
    );
    expect(a.slice(0, 16)).toBe(new Date().toISOString().replace('T', ' ').slice(0, 16));
    expect(b).toMatch(/\[WARNING\] simpletuner\.cloud\.jobs \(-\): boot\\nline$/);
  });

  it('redacts API keys, tokens, cookies and webhook secrets, whatever the field name, level or place', async () => {
    const apiKey = 'st_' + 'A1b2C3d4'.repeat(4);
    const whsec = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const r8 = 'r8_Zx8uVabcdefghijklmnopqrstuvwxyz012345';
    log.info(`Calling with ${apiKey} and Bearer ${r8}`, {
      headers: {
        Authorization: `Bearer ${apiKey}`,
        'X-API-Key': apiKey,
        cookie: 'sid=abc',
        'content-type': 'application/json',
      },
      webhook_secret: 'plain-secret-without-prefix',
      upload_token: 'up-123456',
      REPLICATE_API_TOKEN: 'anything',
      password: 'hunter2',
      api_key_id: 'key-row-7',
      url: `https://api.example.com/v1/x?api_key=${apiKey}&page=2`,
      proxy: 'http://user:pa55word@proxy:8080',
      nested: [{ secret: 's' }, `token ${whsec}`],
    });
    log.critical('boom', { error: new Error(`signature check with ${whsec} failed for ${r8}`) });
    const text = (await readLines()).join('\n');
    for (const secret of [
      apiKey,
      whsec,
      r8,
      'sid=abc',
      'plain-secret-without-prefix',
      'up-123456',
      'anything',
      'hunter2',
      'pa55word',
    ]) {
      expect(text).not.toContain(secret);
    }
    const [line] = parse((await readLines()).slice(0, 1));
    expect(line.extra.headers).toEqual({
      Authorization: '[REDACTED]',
      'X-API-Key': '[REDACTED]',
      cookie: '[REDACTED]',
      'content-type': 'application/json',
    });
    expect(line.extra.api_key_id).toBe('key-row-7'); // an id is not a secret
    expect(line.extra.url).toBe('https://api.example.com/v1/x?api_key=[REDACTED]&page=2');
    expect(line.message).toBe('Calling with [REDACTED] and Bearer [REDACTED]');
  });

  it('initFromEnv() takes level, format and file from the validated SIMPLETUNER_LOG_* configuration', async () => {
    const other = path.join(dir, 'env', 'cloud.log');
    initFromEnv({
      SIMPLETUNER_LOG_LEVEL: 'warning',
      SIMPLETUNER_LOG_FORMAT: 'TEXT',
      SIMPLETUNER_LOG_FILE: other,
      SIMPLETUNER_ENTERPRISE_CONFIG: '',
    });
    log.info('below the level');
    log.warning('from env');
    file = other;
    expect(await readLines()).toEqual([
      expect.stringMatching(/ \[WARNING\] simpletuner\.cloud\.jobs \(-\): from env$/),
    ]);
  });

  it('manages correlation ids: get generates one outside a context, set/clear work inside one', async () => {
    expect(getCorrelationId()).toMatch(/^[0-9a-f]{12}$/);
    await runWithCorrelationId('first', async () => {
      setCorrelationId('request-abc-123');
      log.info('set');
      clearCorrelationId();
      const fresh = getCorrelationId();
      expect(fresh).toMatch(/^[0-9a-f]{12}$/);
      log.info('regenerated');
    });
    const lines = parse(await readLines());
    expect(lines[0].correlation_id).toBe('request-abc-123');
    expect(lines[1].correlation_id).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('compile-time call-site transformer', () => {
  const compile = (code: string) =>
    ts.transpileModule(code, {
      fileName: '/x/jobs.service.ts',
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      transformers: { before: [transformerFactory()] },
    }).outputText;

  it('adds {file, line, function} only to calls on loggers from getLogger / typed StructuredLogger', () => {
    const out = compile(
      [
        "import { getLogger, StructuredLogger } from '../logging';",
        "import { Logger } from '@nestjs/common';",
        "const log = getLogger('simpletuner.cloud.jobs');",
        'export class JobsService {',
        "  private readonly nest = new Logger('Jobs');",
        '  constructor(private readonly audit: StructuredLogger) {}',
        '  submit(id: string) {',
        "    log.info('Job submitted successfully', { job_id: id });",
        "    this.nest.error('nest error', 'stack');",
        "    console.error('console');",
        "    this.audit.warning('audit');",
        '  }',
        '}',
      ].join('\n'),
    );
    expect(out).toContain('{ file: "jobs.service.ts", line: 8, function: "JobsService.submit" }');
    expect(out).toContain("log.info('Job submitted successfully', { job_id: id }, __logSite_1)");
    expect(out).toContain("this.audit.warning('audit', undefined, __logSite_2)");
    expect(out).toContain("this.nest.error('nest error', 'stack');");
    expect(out).toContain("console.error('console');");
  });
});
