import type { INestApplication } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { EventsService } from '../../src/events';
import type { NewEvent, StoredEvent } from '../../src/events';

/** An event of any shape: tests publish markers and filters the typed payloads of the service would not allow. */
export interface TestEvent {
  type: string;
  jobId?: string | null;
  userId?: string | null;
  orgId?: string | null;
  data?: Record<string, unknown>;
}

/** Runs fn in one transaction of the app (what a service's @Transactional() unit of work is). */
export function inTransaction<T>(app: INestApplication, fn: () => Promise<T>): Promise<T> {
  return app.get(TransactionHost).withTransaction(fn);
}

/** Publishes in the current transaction (or on its own), as a service would. */
export function publishIn(app: INestApplication, event: TestEvent): Promise<StoredEvent> {
  return app.get(EventsService).publish({ data: {}, ...event } as unknown as NewEvent);
}

/** Publishes these events in one transaction of their own. */
export function publishEvents(app: INestApplication, events: TestEvent[]): Promise<StoredEvent[]> {
  const service = app.get(EventsService);
  return inTransaction(app, () => service.publishMany(events.map((e) => ({ data: {}, ...e }) as unknown as NewEvent)));
}

export async function publishEvent(app: INestApplication, event: TestEvent): Promise<StoredEvent> {
  return (await publishEvents(app, [event]))[0];
}

/** A query in the current transaction (the one inTransaction opened). */
export function queryIn(app: INestApplication, sql: string, params: unknown[] = []): Promise<unknown> {
  return (app.get(TransactionHost).tx as { query(sql: string, params: unknown[]): Promise<unknown> }).query(
    sql,
    params,
  );
}
