import { randomBytes } from 'node:crypto';
import { ClsServiceManager } from 'nestjs-cls';

/** Keys of the per-async-flow store held by nestjs-cls. */
export const CLS_CORRELATION_ID = 'correlationId';
export const CLS_LOG_FIELDS = 'logFields';
export const CLS_TRACEPARENT = 'traceparent';
export const CLS_CLIENT_IP = 'clientIp';

const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function generateCorrelationId(): string {
  return randomBytes(6).toString('hex');
}

export function isValidCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && CORRELATION_ID_PATTERN.test(value);
}

function cls() {
  return ClsServiceManager.getClsService();
}

/** The current flow's id, or null outside any context (what log lines show at boot). */
export function peekCorrelationId(): string | null {
  const c = cls();
  if (!c.isActive()) return null;
  return c.get<string | undefined>(CLS_CORRELATION_ID) ?? null;
}

/** The current id; one is generated (and kept for the flow) when none is set. */
export function getCorrelationId(): string {
  const c = cls();
  const existing = c.isActive() ? c.get<string | undefined>(CLS_CORRELATION_ID) : undefined;
  if (existing) return existing;
  const id = generateCorrelationId();
  if (c.isActive()) c.set(CLS_CORRELATION_ID, id);
  return id;
}

export function setCorrelationId(id: string): void {
  const c = cls();
  if (!c.isActive()) throw new Error('setCorrelationId() needs an active context: use runWithCorrelationId()');
  c.set(CLS_CORRELATION_ID, id);
}

export function clearCorrelationId(): void {
  const c = cls();
  if (c.isActive()) c.set(CLS_CORRELATION_ID, undefined);
}

/** Runs fn in a fresh context (nothing inherited, no transaction) whose correlation id is `id`: a tick's start. */
export function runWithCorrelationId<T>(id: string, fn: () => T): T {
  return cls().run({ ifNested: 'override' }, () => {
    cls().set(CLS_CORRELATION_ID, id);
    return fn();
  });
}

/**
 * Runs fn under correlation id `id` with none of the caller's log fields or trace context, but in the caller's unit
 * of work: a transaction the caller holds (carried in the same store) stays the one fn's queries join. For work on
 * one job inside a request or a tick (its lines carry the id of the request that submitted the job). With `fields`,
 * every line in fn carries them too (as LogContext.run inside it would).
 */
export function switchCorrelationId<T>(id: string, fn: () => T, fields?: Record<string, unknown>): T {
  return cls().run({ ifNested: 'inherit' }, () => {
    cls().set(CLS_CORRELATION_ID, id);
    // The scope's own fields, if given, in the same store (one scope per job rather than two nested ones).
    cls().set(CLS_LOG_FIELDS, fields ? Object.freeze({ ...fields }) : undefined);
    cls().set(CLS_TRACEPARENT, undefined);
    return fn();
  });
}

/** The request's client address (after the trusted proxies), or null outside a request. */
export function getClientIp(): string | null {
  const c = cls();
  if (!c.isActive()) return null;
  return c.get<string | undefined>(CLS_CLIENT_IP) ?? null;
}

export interface TraceContext {
  traceId: string;
  parentId: string;
  flags: string;
}

/** The W3C trace context that came in with the current request, if any (outbound calls keep its trace id). */
export function getTraceparent(): TraceContext | null {
  const c = cls();
  if (!c.isActive()) return null;
  return c.get<TraceContext | undefined>(CLS_TRACEPARENT) ?? null;
}

/**
 * The log line's view of the context, read with one store lookup (this runs for every line): the correlation id
 * (null outside any context) and the LogContext fields.
 */
export function peekLogState(): { correlationId: string | null; fields: Record<string, unknown> } {
  const store = cls().get<Record<string, unknown> | undefined>();
  if (!store) return NO_STATE;
  return {
    correlationId: (store[CLS_CORRELATION_ID] as string | undefined) ?? null,
    fields: (store[CLS_LOG_FIELDS] as Record<string, unknown> | undefined) ?? EMPTY_FIELDS,
  };
}

const EMPTY_FIELDS: Record<string, unknown> = Object.freeze({});
const NO_STATE = Object.freeze({ correlationId: null, fields: EMPTY_FIELDS });
