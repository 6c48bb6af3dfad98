import type { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { AllExceptionsFilter, installClientErrorHandler, installRequestEdge } from './edge';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config';
import { EVENTS_PATH } from './events';
import { LOG_STREAM_PATH } from './job-logs';
import { ProviderConfigService, ReplicateProvider, webhookPreflight, webhookSourceCheck } from './providers';
import { DatabaseTarget, EmbeddedPostgres, startEmbeddedPostgres } from './database';
import { configureStructuredLogging } from './logging';
import { setupOpenApi } from './api-docs';
import { BackgroundTaskManager } from './scheduling';
import { UPLOADS_PATH } from './uploads';
import { webhookRateLimit } from './rate-limits';

const WEBHOOK_PATH = '/api/webhooks/replicate';
const WEBHOOK_LIMIT_BYTES = 10 * 1024 * 1024;

export interface RunningApp {
  app: INestApplication;
  config: AppConfig;
  /** Base URL when listening, e.g. http://127.0.0.1:8001 */
  url: string;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  imports?: AppModuleOptions['imports'];
  jobEndedSteps?: AppModuleOptions['jobEndedSteps'];
  clock?: AppModuleOptions['clock'];
  /** Listen on config HOST/PORT (default) or on this port (0 = any free port). */
  port?: number;
}

/** Builds, configures and starts the whole application: the one path used by main.ts, tests and benches. */
export async function createApp(config: AppConfig, opts: CreateAppOptions = {}): Promise<RunningApp> {
  configureStructuredLogging({
    level: config.env.SIMPLETUNER_LOG_LEVEL,
    jsonOutput: config.env.SIMPLETUNER_LOG_FORMAT === 'json',
    logFile: config.env.SIMPLETUNER_LOG_FILE,
    includeStackInfo: config.env.SIMPLETUNER_LOG_INCLUDE_STACK,
  });
  const { database, embedded } = await openDatabase(config);
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({
        config,
        database,
        imports: opts.imports,
        clock: opts.clock,
        jobEndedSteps: opts.jobEndedSteps,
      }),
      {
        bodyParser: false,
        abortOnError: false,
        // Nest's own lines wait until our pipeline is installed, then go out as simpletuner.cloud.nest.<Context>.
        bufferLogs: true,
      },
    );
    configureHttp(app, config);
    await app.listen(opts.port ?? config.env.PORT, config.env.HOST);
    // Ticks start only once the app serves requests; /health/ready stays 503 until then.
    await app.get(BackgroundTaskManager).start();
  } catch (err) {
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
  return running(app, config, embedded);
}

/** `DATABASE_URL`'s server, or the embedded PGlite in the data folder. */
async function openDatabase(config: AppConfig): Promise<{ database: DatabaseTarget; embedded?: EmbeddedPostgres }> {
  if (config.env.DATABASE_URL) {
    return { database: { kind: 'postgres', url: config.env.DATABASE_URL, poolSize: config.env.DB_POOL_SIZE } };
  }
  const embedded = await startEmbeddedPostgres(config.dataDir);
  return { database: { kind: 'embedded', connect: embedded.connect }, embedded };
}

/** The HTTP edge: our logger, body parsing and limits before any route, error bodies, validation, the docs. */
function configureHttp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(NestPinoLogger));
  // express's own proxy-addr list: X-Forwarded-For is believed only through these hops (none by default).
  app.set('trust proxy', config.env.SIMPLETUNER_TRUSTED_PROXIES);
  app.disable('x-powered-by');
  installRequestEdge(app, config, {
    rawBodyRoutes: [
      {
        path: WEBHOOK_PATH,
        limit: WEBHOOK_LIMIT_BYTES,
        // In this order: the source allowlist (403), the rate limit (429), then the headers and size.
        preflight: [
          webhookSourceCheck(app.get(ProviderConfigService)),
          webhookRateLimit(config),
          webhookPreflight(() => app.get(ReplicateProvider).isConfigured(), WEBHOOK_LIMIT_BYTES),
        ],
      },
    ],
    streamingPaths: [EVENTS_PATH, LOG_STREAM_PATH],
    streamedBodyPaths: [UPLOADS_PATH],
  });
  installClientErrorHandler(app.getHttpServer());
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());
  setupOpenApi(app);
}

function running(app: NestExpressApplication, config: AppConfig, embedded?: EmbeddedPostgres): RunningApp {
  const address = app.getHttpServer().address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    url: `http://${config.env.HOST}:${address.port}`,
    close() {
      closing ??= (async () => {
        try {
          // No new tick starts; in-flight ones finish (bounded by SIMPLETUNER_SHUTDOWN_TIMEOUT) before the
          // database and HTTP server go away.
          await app.get(BackgroundTaskManager).stop();
          await app.close();
        } finally {
          await embedded?.stop();
        }
      })();
      return closing;
    },
  };
}
