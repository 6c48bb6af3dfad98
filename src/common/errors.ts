import { HttpStatus } from '@nestjs/common';

/** The project's errors: a stable code clients match on, an HTTP status and optional details. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('validation_error', HttpStatus.BAD_REQUEST, message, details);
  }
}

export class AuthenticationError extends AppError {
  constructor(message = 'A valid API key is required (X-API-Key or Authorization: Bearer)') {
    super('authentication_error', HttpStatus.UNAUTHORIZED, message);
  }
}

export class InvalidSignatureError extends AppError {
  constructor(message = 'Webhook signature is missing or invalid') {
    super('invalid_signature', HttpStatus.UNAUTHORIZED, message);
  }
}

export class PermissionDeniedError extends AppError {
  constructor(message = 'You do not have permission to do this', details?: Record<string, unknown>) {
    super('permission_denied', HttpStatus.FORBIDDEN, message, details);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found', code = 'not_found', details?: Record<string, unknown>) {
    super(code, HttpStatus.NOT_FOUND, message, details);
  }
}

export class JobNotFoundError extends NotFoundError {
  constructor(jobId: string) {
    super(`Job ${jobId} not found`, 'job_not_found', { job_id: jobId });
  }
}

export class InvalidJobStateError extends AppError {
  constructor(jobId: string, currentState: string, allowedStates: string[], message?: string) {
    super('invalid_job_state', HttpStatus.CONFLICT, message ?? `Job ${jobId} is ${currentState}`, {
      job_id: jobId,
      current_state: currentState,
      allowed_states: allowedStates,
    });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('conflict', HttpStatus.CONFLICT, message, details);
  }
}

export class RateLimitError extends AppError {
  constructor(
    message = 'Too many requests',
    details?: Record<string, unknown>,
    /** Sent as Retry-After: when the client may try again. */
    readonly retryAfterSeconds?: number,
    code = 'rate_limit_exceeded',
  ) {
    super(code, HttpStatus.TOO_MANY_REQUESTS, message, details);
  }
}

/** The quota a refused submit would have passed, and when its window frees room. */
export type QuotaExceededDetails = {
  quota_id: string;
  type: string;
  scope: string;
  scope_id: string | null;
  limit: number;
  /** Used in the window before this submit. */
  used: number;
  /** What this submit would have added (its cost estimate, or 1 job). */
  requested: number;
  resets_at: string;
};

/** A `block` quota refuses a submit (429 with Retry-After = seconds until `resets_at`). */
export class QuotaExceededError extends RateLimitError {
  declare readonly details: QuotaExceededDetails;

  constructor(message: string, details: QuotaExceededDetails, retryAfterSeconds: number) {
    super(message, { ...details }, retryAfterSeconds, 'quota_exceeded');
  }
}

export class ProviderError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('provider_error', HttpStatus.BAD_GATEWAY, message, details);
  }
}

export class ProviderUnavailableError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('provider_unavailable', HttpStatus.SERVICE_UNAVAILABLE, message, details);
  }
}
