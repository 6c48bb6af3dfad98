import { HttpStatus } from '@nestjs/common';
import { AppError, ConflictError, ValidationError } from '../common/errors';

/** Where a submission's idempotency key came from: the two differ only in how a reused key is answered. */
export interface IdempotencyKey {
  key: string;
  source: 'body' | 'header';
}

/** Printable ASCII, 1–255 characters (the IETF Idempotency-Key draft's key is an opaque string). */
const HEADER_KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * The key of a submit, from the body's `idempotency_key` or the standard `Idempotency-Key` header. Both may be
 * given when they agree; disagreeing keys are a 400 (which one did the client mean?).
 */
export function idempotencyFrom(
  bodyKey: string | undefined,
  header: string | string[] | undefined,
): IdempotencyKey | null {
  if (Array.isArray(header)) {
    throw new ValidationError('Invalid Idempotency-Key header', { 'Idempotency-Key': 'must be given once' });
  }
  if (header !== undefined && !HEADER_KEY.test(header)) {
    throw new ValidationError('Invalid Idempotency-Key header', {
      'Idempotency-Key': 'must be 1-255 printable ASCII characters',
    });
  }
  if (header !== undefined && bodyKey !== undefined && header !== bodyKey) {
    throw new ValidationError('The Idempotency-Key header and the body idempotency_key differ', {
      idempotency_key: 'differs from the Idempotency-Key header',
    });
  }
  if (header !== undefined) return { key: header, source: 'header' };
  return bodyKey === undefined ? null : { key: bodyKey, source: 'body' };
}

/**
 * The same key with a different request: the body key keeps its documented 409 `conflict`; the header follows the
 * IETF draft and Stripe (422 `idempotency_key_reused`).
 */
export function keyReusedError(source: IdempotencyKey['source'], jobId: string): AppError {
  const message = 'Idempotency key was already used with a different request';
  if (source === 'body') return new ConflictError(message, { job_id: jobId });
  return new AppError('idempotency_key_reused', HttpStatus.UNPROCESSABLE_ENTITY, message, { job_id: jobId });
}
