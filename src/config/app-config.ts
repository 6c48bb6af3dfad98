import * as path from 'node:path';
import { z } from 'zod';
import { invalidAddress } from './address-list';
import { DotEnvError, environmentWithDotEnv } from './dotenv';
import { EnterpriseFileError, loadEnterpriseFile } from './enterprise-config';
import { LOG_LEVEL_NAMES, type LogLevelName } from './log-levels';
import { ssoEnv, ssoProblems, ssoSettings, type SsoSettings } from './sso-config';

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), 'must be true or false')
  .transform((v) => ['true', '1', 'yes'].includes(v));

const int = (min: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number, at least ${min}`)
    .transform(Number)
    .refine((n) => n >= min, `must be at least ${min}`);

const seconds = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds')
  .transform(Number)
  .refine((n) => n >= 1, 'must be at least 1 second');

/** Seconds that may be below one (tests and benchmarks run short intervals). */
const fractionSeconds = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds')
  .transform(Number)
  .refine((n) => n >= 0.01, 'must be at least 0.01 second');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** A host an output may be copied from: `host`, `host:port` or `*.domain` (any subdomain of it). */
const SOURCE_HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

/** Where Replicate serves prediction outputs. */
const DEFAULT_SOURCE_HOSTS = 'replicate.delivery,*.replicate.delivery';

/** Hosts separated by commas; unset or empty: the default list. */
const hostList = z
  .string()
  .optional()
  .transform((v) =>
    (v === undefined || v.trim() === '' ? DEFAULT_SOURCE_HOSTS : v)
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  )
  .refine(
    (list) => list.every((h) => SOURCE_HOST.test(h)),
    'must be host names, host:port or *.domain, separated by commas',
  );

/**
 * Proxy addresses or CIDRs separated by commas (express's `trust proxy` list, proxy-addr's syntax: `10.0.0.0/8`,
 * `::1`, `loopback`…). Checked by express itself, so what boots is exactly what the app will trust.
 */
const proxyList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  )
  .refine(
    (list) => invalidAddress(list) === null,
    'must be IP addresses or CIDR ranges (e.g. 10.0.0.0/8, ::1), separated by commas',
  );

/** A per-minute request limit; 0 switches the limit off. */
const perMinute = (def: number) => int(0).default(def);

/** An AES-256 key: 32 bytes, base64. */
const isSecretKey = (v: string) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32;

/** Every environment variable the service reads, with its default. Nothing else reads process.env. */
const envSchema = z.object({
  PORT: int(0).default(8001),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: optionalString.refine(
    (v) => v === undefined || /^postgres(ql)?:\/\//.test(v),
    'must be a postgres:// URL',
  ),
  DB_POOL_SIZE: int(1).default(10),
  DB_MIGRATIONS_RUN: bool.default(true),
  SIMPLETUNER_DATA_DIR: z.string().default('./data'),
  SIMPLETUNER_ADMIN_API_KEY: optionalString.refine(
    (v) => v === undefined || /^st_[A-Za-z0-9]{32}$/.test(v),
    'must be st_ followed by 32 letters or digits',
  ),
  SIMPLETUNER_LOG_LEVEL: z
    .string()
    .default('INFO')
    .transform((v) => v.trim().toUpperCase())
    .refine((v): v is LogLevelName => (LOG_LEVEL_NAMES as readonly string[]).includes(v), {
      message: `must be one of ${LOG_LEVEL_NAMES.join(', ')}`,
    }),
  SIMPLETUNER_LOG_FORMAT: z
    .string()
    .default('json')
    .transform((v) => v.trim().toLowerCase())
    .refine((v) => v === 'json' || v === 'text', 'must be json or text'),
  SIMPLETUNER_LOG_FILE: optionalString,
  SIMPLETUNER_LOG_MAX_BYTES: int(1024).default(100 * 1024 * 1024),
  SIMPLETUNER_LOG_RETENTION: int(1).default(7),
  SIMPLETUNER_LOG_INCLUDE_STACK: bool.default(false),
  SIMPLETUNER_ENTERPRISE_CONFIG: optionalString,
  SIMPLETUNER_JOB_POLL_INTERVAL: seconds.optional(),
  SIMPLETUNER_QUEUE_INTERVAL: seconds.optional(),
  SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: bool.default(true),
  SIMPLETUNER_APPROVAL_CHECK_INTERVAL: seconds.optional(),
  SIMPLETUNER_SHUTDOWN_TIMEOUT: seconds.default(30),
  SIMPLETUNER_HTTP_TIMEOUT: seconds.default(30),
  SIMPLETUNER_SECRET_KEY: optionalString.refine(
    (v) => v === undefined || isSecretKey(v.trim()),
    'must be 32 random bytes, base64 (openssl rand -base64 32)',
  ),
  SIMPLETUNER_SECRET_KEY_PREVIOUS: optionalString.refine(
    (v) => v === undefined || v.split(',').every((k) => isSecretKey(k.trim())),
    'must be comma-separated keys of 32 bytes, base64',
  ),
  SIMPLETUNER_HTTP_PROXY: optionalString,
  SIMPLETUNER_HTTP_CA_FILE: optionalString,
  SIMPLETUNER_EVENT_RETENTION_DAYS: int(1).default(7),
  SIMPLETUNER_AUDIT_RETENTION_DAYS: int(1).default(365),
  // Finished jobs older than this are deleted daily (with their rows and stored outputs); 0 keeps them forever.
  SIMPLETUNER_JOB_RETENTION_DAYS: int(0).default(90),
  SIMPLETUNER_SSE_MAX_PER_USER: int(1).default(10),
  SIMPLETUNER_SSE_MAX_PER_ORG: int(1).default(200),
  SIMPLETUNER_SSE_MAX_CONNECTIONS: int(1).default(2000),
  SIMPLETUNER_SSE_HEARTBEAT_SECONDS: seconds.default(15),
  SIMPLETUNER_CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .refine(
      (list) => list.every((o) => o === '*' || /^https?:\/\/[^/\s]+$/.test(o)),
      'must be origins like https://ops.example.com, separated by commas (or * for any origin, without credentials)',
    ),
  SIMPLETUNER_REQUEST_TIMEOUT: seconds.default(60),
  SIMPLETUNER_AUTH_FAILURE_LIMIT: int(1).default(20),
  /** The reverse proxies whose X-Forwarded-For is believed; none = the TCP peer is the client. */
  SIMPLETUNER_TRUSTED_PROXIES: proxyList,
  /** Requests per minute per API key (per client address without one), on each instance. */
  SIMPLETUNER_RATE_LIMIT_PER_MINUTE: perMinute(600),
  /** Submits per minute per API key, counted in the database (all instances together). */
  SIMPLETUNER_RATE_LIMIT_SUBMIT_PER_MINUTE: perMinute(60),
  /** Dataset uploads per minute per API key. */
  SIMPLETUNER_RATE_LIMIT_UPLOADS_PER_MINUTE: perMinute(10),
  /** Provider webhooks per minute per client address. */
  SIMPLETUNER_RATE_LIMIT_WEBHOOKS_PER_MINUTE: perMinute(600),
  SIMPLETUNER_REPLICATE_CREATES_PER_MINUTE: int(10).default(600),
  SIMPLETUNER_REPLICATE_CALLS_PER_MINUTE: int(10).default(3000),
  SIMPLETUNER_REPLICATE_RATE_WINDOW_SECONDS: seconds.default(60),
  /** Largest dataset archive `POST /api/cloud/uploads` takes, in bytes (Replicate's files API takes 100 MiB). */
  SIMPLETUNER_UPLOAD_MAX_BYTES: int(1).default(100 * 1024 * 1024),
  /** Built dashboard files (index.html + assets/); unset = web/dist of this checkout. */
  SIMPLETUNER_DASHBOARD_DIR: optionalString,
  SIMPLETUNER_ARTIFACT_S3_BUCKET: optionalString,
  SIMPLETUNER_ARTIFACT_S3_ENDPOINT: optionalString.refine(
    (v) => v === undefined || /^https?:\/\/[^\s/]+\/?$/.test(v),
    'must be an http(s) URL of the S3-compatible server, without a path',
  ),
  SIMPLETUNER_ARTIFACT_S3_REGION: optionalString,
  SIMPLETUNER_ARTIFACT_COPY_ATTEMPTS: int(1).default(5),
  SIMPLETUNER_ARTIFACT_COPY_INTERVAL: seconds.default(10),
  SIMPLETUNER_ARTIFACT_COPY_CONCURRENCY: int(1).default(2),
  SIMPLETUNER_ARTIFACT_SOURCE_HOSTS: hostList,
  /** Bytes of a job's log kept (after redaction): its first part (1 MiB, at most half) and the newest rest. */
  SIMPLETUNER_JOB_LOG_MAX_BYTES: int(4096).default(8 * 1024 * 1024),
  /** Seconds between provider fetches of a running job whose log somebody streams (once across instances). */
  SIMPLETUNER_LOG_FOLLOW_INTERVAL: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds')
    .transform(Number)
    .refine((n) => n >= 0.1, 'must be at least 0.1 second')
    .default(5),
  /** Least seconds between two job_progress events of one job. */
  SIMPLETUNER_PROGRESS_EVENT_SECONDS: seconds.default(10),
  /** Notifications: seconds between outbox ticks, the first retry's delay (doubling), parallel sends. */
  SIMPLETUNER_NOTIFY_INTERVAL: fractionSeconds.default(1),
  SIMPLETUNER_NOTIFY_RETRY_BASE_SECONDS: fractionSeconds.default(30),
  SIMPLETUNER_NOTIFY_CONCURRENCY: int(1).default(16),
  /** While the API is under load, deliveries wait for it up to this many seconds (0: never). */
  SIMPLETUNER_NOTIFY_MAX_DEFER_SECONDS: int(0).default(30),
  /** Lets webhook and Slack channels reach private, loopback and link-local addresses, and plain http://. */
  SIMPLETUNER_ALLOW_PRIVATE_WEBHOOK_TARGETS: bool.default(false),
  // SIMPLETUNER_PUBLIC_URL (links in notifications; default http://HOST:PORT) is with the sign-in settings (ssoEnv).
  /** Email channels: smtp:// or smtps:// URL of the mail server, and the From address. */
  SIMPLETUNER_SMTP_URL: optionalString.refine(
    (v) => v === undefined || /^smtps?:\/\/[^\s]+$/.test(v),
    'must be an smtp:// or smtps:// URL',
  ),
  SIMPLETUNER_SMTP_FROM: z.string().default('SimpleTuner <simpletuner@localhost>'),
  /** The standard AWS variables: the S3 artifact store's credentials and region. */
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
  AWS_REGION: optionalString,
  REPLICATE_API_TOKEN: optionalString,
  REPLICATE_API_BASE: z.string().url('must be a URL').default('https://api.replicate.com/v1'),
  SIMULATOR_STEP_SECONDS: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds')
    .transform(Number)
    .default(5),
  ...ssoEnv,
});

export type Env = z.infer<typeof envSchema>;

/** The enterprise settings: env > enterprise file > default, resolved once. */
export interface EnterpriseConfig {
  readonly sourceFile: string | null;
  readonly jobPollingEnabled: boolean | undefined;
  readonly jobPollingInterval: number;
  readonly queueProcessingInterval: number;
  readonly approvalCheckInterval: number;
  readonly queueMaxConcurrent: number;
  readonly queueUserMaxConcurrent: number;
  readonly queueOrgMaxConcurrent: number;
  readonly starvationMinutes: number;
  readonly approvalExpiresHours: number;
  /** The whole parsed file, unknown keys included, for enterprise modules. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
  }
}

/** The validated configuration, injected by class token everywhere. */
export class AppConfig {
  readonly env: Env;
  readonly enterprise: EnterpriseConfig;
  readonly dataDir: string;
  readonly embeddedDatabase: boolean;
  /** Single sign-on (OpenID Connect); null when SIMPLETUNER_OIDC_ISSUER is unset. */
  readonly sso: SsoSettings | null;

  constructor(env: Env, enterprise: EnterpriseConfig) {
    this.env = Object.freeze(env);
    this.enterprise = enterprise;
    this.dataDir = path.resolve(env.SIMPLETUNER_DATA_DIR);
    this.embeddedDatabase = !env.DATABASE_URL;
    this.sso = ssoSettings(env);
    Object.freeze(this);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Settings that are valid alone but not together. The S3 artifact store is given its credentials explicitly (read
 * here, like every variable): the SDK's own lookup of the environment and of ~/.aws is not used.
 */
function combinationProblems(env: Env): string[] {
  const problems: string[] = [];
  if (Boolean(env.AWS_ACCESS_KEY_ID) !== Boolean(env.AWS_SECRET_ACCESS_KEY)) {
    problems.push('AWS_ACCESS_KEY_ID: must be set together with AWS_SECRET_ACCESS_KEY');
  }
  if (env.SIMPLETUNER_ARTIFACT_S3_BUCKET && !env.AWS_ACCESS_KEY_ID) {
    problems.push('SIMPLETUNER_ARTIFACT_S3_BUCKET: needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }
  problems.push(...ssoProblems(env));
  return problems;
}

function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
}

/** Reads, validates and resolves all configuration; throws one error naming every bad variable. */
export function loadAppConfig(source: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  const problems: string[] = [];
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) problems.push(...formatZodIssues(parsed.error));
  else problems.push(...combinationProblems(parsed.data));

  let file: ReturnType<typeof loadEnterpriseFile> = { path: null, data: {} };
  try {
    file = loadEnterpriseFile(source, cwd);
  } catch (err) {
    if (err instanceof EnterpriseFileError) problems.push(...err.problems);
    else throw err;
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigValidationError(problems);

  const env = parsed.data;
  const bg = file.data.background ?? {};
  const q = file.data.queue ?? {};
  const enterprise: EnterpriseConfig = deepFreeze({
    sourceFile: file.path,
    jobPollingEnabled: bg.job_status_polling?.enabled ?? undefined,
    jobPollingInterval: env.SIMPLETUNER_JOB_POLL_INTERVAL ?? bg.job_status_polling?.interval_seconds ?? 30,
    queueProcessingInterval: env.SIMPLETUNER_QUEUE_INTERVAL ?? bg.queue_processing?.interval_seconds ?? 5,
    approvalCheckInterval: env.SIMPLETUNER_APPROVAL_CHECK_INTERVAL ?? bg.approval_expiration?.interval_seconds ?? 300,
    queueMaxConcurrent: q.max_concurrent ?? 5,
    queueUserMaxConcurrent: q.user_max_concurrent ?? 2,
    queueOrgMaxConcurrent: q.org_max_concurrent ?? 10,
    starvationMinutes: q.starvation_minutes ?? 60,
    approvalExpiresHours: file.data.approvals?.expires_hours ?? 24,
    raw: file.data,
  });
  return new AppConfig(env, enterprise);
}

/**
 * For entry points (the app, the TypeORM CLI): the environment over ./.env, validated. A bad configuration prints
 * one plain line naming every bad variable and exits 1, before anything else starts.
 */
export function loadAppConfigOrExit(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  try {
    return loadAppConfig(environmentWithDotEnv(env, cwd), cwd);
  } catch (err) {
    if (err instanceof ConfigValidationError || err instanceof DotEnvError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
