import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { ValidationError } from '../common/errors';
import { findNul, MAX_JSON_DEPTH, scanJson } from './json-scan';

/** Set on a request whose JSON body holds an escaped NUL somewhere: only then is the parsed body walked. */
const BODY_HAS_NUL = Symbol('simpletuner.bodyHasNul');

type FlaggedRequest = IncomingMessage & { [BODY_HAS_NUL]?: boolean };

const NUL_MESSAGE = 'must not contain NUL characters';

function nulError(field: string): ValidationError {
  const name = field.length > 200 ? `${field.slice(0, 200)}…` : field;
  return new ValidationError(`Invalid request: ${name}`, { [name]: NUL_MESSAGE });
}

/**
 * The JSON body parser's `verify` hook: runs on the raw bytes before JSON.parse, so a body nested past the limit
 * is refused before any tree exists, and remembers whether a NUL escape needs looking for after parsing.
 */
export function verifyJsonBody(req: IncomingMessage, _res: unknown, buf: Buffer): void {
  const scan = scanJson(buf, MAX_JSON_DEPTH);
  if (scan.tooDeep) {
    throw new ValidationError(`Request body is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      body: `nested deeper than ${MAX_JSON_DEPTH} levels`,
    });
  }
  if (scan.hasNul) (req as FlaggedRequest)[BODY_HAS_NUL] = true;
}

/**
 * PostgreSQL text and jsonb refuse NUL: a NUL anywhere in the path or the query is a 400 naming the field before
 * any route runs (it would otherwise be a 500 deep in an insert).
 */
export function refuseNulInUrl(req: Request, _res: Response, next: NextFunction): void {
  const raw = req.originalUrl ?? req.url;
  if (!raw.includes('%00')) return next();
  const queryStart = raw.indexOf('?');
  if (!(queryStart >= 0 ? raw.slice(0, queryStart) : raw).includes('%00')) {
    const field = findNul(req.query);
    return next(nulError(field ?? 'query'));
  }
  next(nulError('path'));
}

/** After the body parsers: names the first body field holding a NUL (`config.deep.k`). */
export function refuseNulInBody(req: Request, _res: Response, next: NextFunction): void {
  const flagged = (req as unknown as FlaggedRequest)[BODY_HAS_NUL] === true;
  const form = Boolean(req.is('application/x-www-form-urlencoded'));
  if (!flagged && !form) return next();
  const field = findNul(req.body as unknown);
  next(field === null ? undefined : nulError(field));
}
