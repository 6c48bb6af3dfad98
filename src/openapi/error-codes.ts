import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/** One error code of the API: the status it comes with, what it means, and the shape of its `details`. */
interface ErrorCodeDoc {
  status: number;
  /** Component name of its body schema. */
  schema: string;
  description: string;
  details?: SchemaObject;
}

const fieldMessages: SchemaObject = {
  type: 'object',
  description: 'One entry per bad field or header, naming what is wrong with it',
  additionalProperties: { type: 'string' },
  example: { limit: 'limit must not be greater than 500' },
};

/** Every `error` code the API answers with. */
export const ERROR_CODES = {
  validation_error: {
    status: 400,
    schema: 'ValidationError',
    description: 'The request is malformed: a bad parameter, header or body field (named in `details`)',
    details: fieldMessages,
  },
  invalid_oidc_state: {
    status: 400,
    schema: 'InvalidOidcStateError',
    description:
      'The single sign-on callback does not belong to a sign-in this browser started (unknown, used, expired or ' +
      'altered `state`)',
  },
  authentication_error: {
    status: 401,
    schema: 'AuthenticationError',
    description: 'No API key, or one that is unknown, revoked or expired, or whose user is inactive',
  },
  invalid_signature: {
    status: 401,
    schema: 'InvalidSignatureError',
    description: 'The webhook signature headers are missing, stale or do not match the body',
  },
  permission_denied: {
    status: 403,
    schema: 'PermissionDeniedError',
    description: "The caller's level does not allow this action on a resource it can see",
  },
  csrf_token_invalid: {
    status: 403,
    schema: 'CsrfTokenInvalidError',
    description:
      'A change made with a session cookie lacks the X-CSRF-Token header of that session (GET /api/auth/session)',
  },
  not_found: {
    status: 404,
    schema: 'NotFoundError',
    description: 'No such resource, or one the caller may not see',
  },
  sso_not_configured: {
    status: 404,
    schema: 'SsoNotConfiguredError',
    description: 'Single sign-on is off (SIMPLETUNER_OIDC_ISSUER is unset)',
  },
  job_not_found: {
    status: 404,
    schema: 'JobNotFoundError',
    description: 'No such job, or one the caller may not see',
    details: {
      type: 'object',
      properties: { job_id: { type: 'string' } },
    },
  },
  conflict: {
    status: 409,
    schema: 'ConflictError',
    description: 'The request conflicts with the current state (a taken name, a decided request, a reused key)',
  },
  invalid_job_state: {
    status: 409,
    schema: 'InvalidJobStateError',
    description: 'The job is not in a state that allows this action',
    details: {
      type: 'object',
      required: ['job_id', 'current_state', 'allowed_states'],
      properties: {
        job_id: { type: 'string', format: 'uuid' },
        current_state: { type: 'string' },
        allowed_states: { type: 'array', items: { type: 'string' } },
      },
    },
  },
  payload_too_large: {
    status: 413,
    schema: 'PayloadTooLargeError',
    description:
      'The body is larger than the route accepts (1 MiB; the webhook 10 MiB; an upload SIMPLETUNER_UPLOAD_MAX_BYTES)',
  },
  unsupported_media_type: {
    status: 415,
    schema: 'UnsupportedMediaTypeError',
    description: 'The body is of a type the route does not take (an upload: a zip, tar or gzip archive)',
  },
  range_not_satisfiable: {
    status: 416,
    schema: 'RangeNotSatisfiableError',
    description: 'The `Range` starts past the end of the file (its size is in `Content-Range: bytes */<size>`)',
    details: { type: 'object', properties: { size: { type: 'integer' } } },
  },
  idempotency_key_reused: {
    status: 422,
    schema: 'IdempotencyKeyReusedError',
    description: 'The Idempotency-Key header was used within 24 h with a different request',
    details: {
      type: 'object',
      properties: { job_id: { type: 'string', format: 'uuid', description: 'The job the key belongs to' } },
    },
  },
  rate_limit_exceeded: {
    status: 429,
    schema: 'RateLimitExceededError',
    description:
      "Too many requests with this key (the general limit, or the route's own: submit, uploads) or, without a key, " +
      'from this address (webhooks); too many failed key checks from this address or for this key prefix; or too ' +
      'many event streams (per user, organisation or instance, named in `details.scope`); see `Retry-After`',
  },
  quota_exceeded: {
    status: 429,
    schema: 'QuotaExceededError',
    description:
      'A `block` quota would be passed by this submit (its window counts the new job); `Retry-After` is the number ' +
      'of seconds until `details.resets_at`, when the window frees room',
    details: {
      type: 'object',
      required: ['quota_id', 'type', 'scope', 'scope_id', 'limit', 'used', 'requested', 'resets_at'],
      properties: {
        quota_id: { type: 'string', format: 'uuid' },
        type: { type: 'string', enum: ['cost_daily', 'cost_monthly', 'jobs_per_hour', 'jobs_per_day'] },
        scope: { type: 'string', enum: ['global', 'org', 'level', 'user', 'provider'] },
        scope_id: { type: 'string', nullable: true },
        limit: { type: 'number' },
        used: { type: 'number', description: 'Used in the window before this submit' },
        requested: { type: 'number', description: "This submit's cost estimate (cost quotas) or 1 (job counts)" },
        resets_at: { type: 'string', format: 'date-time' },
      },
    },
  },
  provider_error: {
    status: 502,
    schema: 'ProviderError',
    description: 'The training provider refused or failed the call; nothing was changed here',
  },
  sso_provider_error: {
    status: 502,
    schema: 'SsoProviderError',
    description: 'The OpenID provider could not be reached or answered nonsense',
  },
  provider_unavailable: {
    status: 503,
    schema: 'ProviderUnavailableError',
    description:
      "The training provider is unavailable (its circuit breaker is open, or its webhook secret can't be read)",
  },
  request_timeout: {
    status: 503,
    schema: 'RequestTimeoutError',
    description: 'The request was not answered within SIMPLETUNER_REQUEST_TIMEOUT; retry later',
  },
  service_unavailable: {
    status: 503,
    schema: 'ServiceUnavailableError',
    description: 'The service is shutting down; reconnect shortly',
  },
  not_ready: {
    status: 503,
    schema: 'NotReadyError',
    description: 'A readiness check failed (listed in `details.checks`)',
    details: {
      type: 'object',
      properties: { checks: { type: 'object', additionalProperties: true } },
    },
  },
  dashboard_not_built: {
    status: 503,
    schema: 'DashboardNotBuiltError',
    description: 'The dashboard files are missing: run npm run build',
  },
} satisfies Record<string, ErrorCodeDoc>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Summary of each status in a response's description. */
export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  416: 'Range not satisfiable',
  422: 'Unprocessable',
  429: 'Too many requests',
  502: 'Provider error',
  503: 'Unavailable',
};

/** The body schema of one error code: the API's error shape with `error` fixed to that code. */
export function errorBodySchema(code: ErrorCode): SchemaObject {
  const doc: ErrorCodeDoc = ERROR_CODES[code];
  return {
    type: 'object',
    description: doc.description,
    required: ['error', 'message', 'correlation_id'],
    properties: {
      error: { type: 'string', enum: [code] },
      message: { type: 'string', description: 'For people; may change between versions' },
      details: doc.details ?? {
        type: 'object',
        additionalProperties: true,
        description: 'Facts about the error, when there are any',
      },
      correlation_id: {
        type: 'string',
        description: 'The id of this request in the logs (also the X-Correlation-ID header)',
        example: 'abc123def456',
      },
    },
  };
}
