import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { ResponseObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ERROR_CODES, ErrorCode, STATUS_TEXT } from './error-codes';

/** `#/components/schemas/<name>` of an error code's body. */
const errorSchemaRef = (code: ErrorCode) => ({ $ref: `#/components/schemas/${ERROR_CODES[code].schema}` });

/** The response object of one status answered with any of `codes`. */
export function errorResponse(status: number, codes: readonly ErrorCode[]): ResponseObject {
  const refs = codes.map(errorSchemaRef);
  return {
    description: `${STATUS_TEXT[status] ?? 'Error'}: ${codes.map((c) => `\`${c}\``).join(', ')}`,
    content: { 'application/json': { schema: refs.length === 1 ? refs[0] : { oneOf: refs } } },
  };
}

/**
 * The errors a route answers besides those every route of its kind shares (authentication, throttling, timeouts,
 * body limits and parameter validation are added to every route they apply to when the document is built).
 * Name the codes (in one call per route); the statuses follow from them.
 */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, list]) => {
      const { description, content } = errorResponse(status, list);
      return ApiResponse({ status, description, schema: content!['application/json'].schema as object });
    }),
  );
}
