import { applyDecorators, type Type } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';

/**
 * A route that creates something and is retry-safe with the `Idempotency-Key` header: the header, the 201 of a new
 * `type`, and the 200 (with `Idempotent-Replayed: true`) that repeats the first answer within 24 h.
 */
export function ApiIdempotentCreate(opts: {
  type: Type;
  /** What the header makes retry-safe, and any rule of its own. */
  header: string;
  created: string;
  /** What a replay answers with. */
  replayed: string;
}): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: opts.header,
      schema: { type: 'string', pattern: '^[\\x20-\\x7e]{1,255}$' },
    }),
    ApiResponse({ status: 201, description: opts.created, type: opts.type }),
    ApiResponse({
      status: 200,
      description: `The idempotency key was used within 24 h with the same request: ${opts.replayed}`,
      type: opts.type,
      headers: { 'Idempotent-Replayed': { description: 'Always `true`', schema: { type: 'string', enum: ['true'] } } },
    }),
  );
}
