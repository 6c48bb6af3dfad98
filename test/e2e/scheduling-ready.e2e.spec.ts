import type { AddressInfo } from 'node:net';
import * as fs from 'node:fs';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../src/app.module';
import { AllExceptionsFilter } from '../../src/edge/all-exceptions.filter';
import { loadAppConfig } from '../../src/config';
import { BackgroundTaskManager } from '../../src/scheduling';
import { http } from '../support/http';
import { makeTempDir } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/**
 * createApp starts the tasks in the same breath as listen(), so no request can fall in between; here the app
 * listens without them to show /health/ready holds traffic back until the task manager starts.
 */
describe('/health/ready follows the background tasks', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let url: string;
  const dir = makeTempDir('st-ready-');

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadAppConfig(
      {
        DATABASE_URL: db.url,
        SIMPLETUNER_DATA_DIR: dir,
        SIMPLETUNER_LOG_LEVEL: 'ERROR',
        SIMPLETUNER_ENTERPRISE_CONFIG: '',
      },
      dir,
    );
    app = await NestFactory.create(
      AppModule.forRoot({ config, database: { kind: 'postgres', url: db.url, poolSize: 2 } }),
      { logger: false },
    );
    app.useGlobalFilters(new AllExceptionsFilter());
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is 503 before the tasks start, 200 once started, 503 again once stopped', async () => {
    const before = await http(url, 'GET', '/health/ready');
    expect(before.status).toBe(503);
    expect(before.body.error).toBe('not_ready');
    expect(JSON.stringify(before.body)).toMatch(/background tasks not started/);
    expect((await http(url, 'GET', '/health/live')).status).toBe(200);

    const tasks = app.get(BackgroundTaskManager);
    await tasks.start();
    expect(tasks.isStarted()).toBe(true);
    const ready = await http(url, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.background_tasks.status).toBe('up');

    await tasks.stop(1000);
    expect((await http(url, 'GET', '/health/ready')).status).toBe(503);
  });
});
