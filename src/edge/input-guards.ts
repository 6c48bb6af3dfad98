import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { ValidationError } from '../common/errors';
import { findBadText, MAX_JSON_DEPTH, scanJson, TextProblem } from './json-scan';

/**
 * Set on a request whose JSON body holds an escaped NUL or surrogate somewhere: only then is the parsed body
 * walked.
 */
const BODY_NEEDS_TEXT_CHECK = Symbol('simpletuner.bodyNeedsTextCheck');

type FlaggedRequest = IncomingMessage & { [BODY_NEEDS_TEXT_CHECK]?: boolean };

const TEXT_MESSAGES: Record<TextProblem | 'invalid_utf8', string> = {
  nul: 'must not contain NUL characters',
  lone_surrogate: 'must not contain a lone UTF-16 surrogate (half of a pair, such as \\ud800): not valid Unicode text',
  invalid_utf8: 'must be valid UTF-8 once percent-decoded',
};

function textError(field: string, problem: TextProblem | 'invalid_utf8'): ValidationError {
  const name = field.length > 200 ? `${field.slice(0, 200)}…` : field;
  return new ValidationError(`Invalid request: ${name}`, { [name]: TEXT_MESSAGES[problem] });
}

/** The first query parameter whose percent-encoding is not UTF-8 (`%ED%A0%80` is a surrogate's bytes). */
function badlyEncodedParameter(query: string): string | null {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const [name, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    for (const part of [name, value]) {
      try {
        decodeURIComponent(part.replace(/\+/g, ' '));
      } catch {
        try {
          return decodeURIComponent(name) || 'query';
        } catch {
          return 'query';
        }
      }
    }
  }
  return null;
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
  if (scan.hasNul || scan.hasSurrogate) (req as FlaggedRequest)[BODY_NEEDS_TEXT_CHECK] = true;
}

/**
 * PostgreSQL text and jsonb refuse NUL and lone surrogates: text that is not valid Unicode anywhere in the path or
 * the query is a 400 naming the field before any route runs (it would otherwise be a 500 deep in an insert). In a
 * URL a surrogate can only arrive as the percent-encoded bytes of one, which are not UTF-8.
 */
export function refuseBadTextInUrl(req: Request, _res: Response, next: NextFunction): void {
  const raw = req.originalUrl ?? req.url;
  // Only %00 and bytes above 0x7F can decode to something PostgreSQL refuses.
  if (!/%(00|[89a-f])/i.test(raw)) return next();
  const queryStart = raw.indexOf('?');
  const path = queryStart >= 0 ? raw.slice(0, queryStart) : raw;
  if (path.includes('%00')) return next(textError('path', 'nul'));
  try {
    decodeURIComponent(path);
  } catch {
    return next(textError('path', 'invalid_utf8'));
  }
  if (queryStart < 0) return next();
  const badlyEncoded = badlyEncodedParameter(raw.slice(queryStart + 1));
  if (badlyEncoded !== null) return next(textError(badlyEncoded, 'invalid_utf8'));
  const bad = findBadText(req.query);
  next(bad ? textError(bad.field || 'query', bad.problem) : undefined);
}

/** After the body parsers: names the first body field holding a NUL or a lone surrogate (`config.deep.k`). */
export function refuseBadTextInBody(req: Request, _res: Response, next: NextFunction): void {
  const flagged = (req as unknown as FlaggedRequest)[BODY_NEEDS_TEXT_CHECK] === true;
  const form = Boolean(req.is('application/x-www-form-urlencoded'));
  if (!flagged && !form) return next();
  const bad = findBadText(req.body as unknown);
  next(bad === null ? undefined : textError(bad.field, bad.problem));
}

/**
 * A raw JSON body (the webhook) meets the same rule before its route reads it: its strings go to PostgreSQL too.
 * Only a body that holds an escape worth looking at is parsed here; malformed JSON is left to the route.
 */
export function refuseBadTextInRawJson(req: Request, _res: Response, next: NextFunction): void {
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) return next();
  const scan = scanJson(req.body, MAX_JSON_DEPTH);
  if (scan.tooDeep || !(scan.hasNul || scan.hasSurrogate)) return next();
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    return next();
  }
  const bad = findBadText(parsed);
  next(bad === null ? undefined : textError(bad.field, bad.problem));
}
