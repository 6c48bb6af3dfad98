import { HttpStatus } from '@nestjs/common';
import { AppError } from '../common/errors';

/** The callback's `state` is missing, unknown, used, expired or not this browser's. */
export class OidcStateError extends AppError {
  constructor() {
    super(
      'invalid_oidc_state',
      HttpStatus.BAD_REQUEST,
      'The sign-in is unknown, expired or was started in another browser; start again',
    );
  }
}

/** The OpenID provider could not be reached or answered nonsense: not the person's fault. */
export class SsoProviderError extends AppError {
  constructor(message: string) {
    super('sso_provider_error', HttpStatus.BAD_GATEWAY, message);
  }
}

/** A change made with a session cookie without its session's CSRF token. */
export class CsrfTokenError extends AppError {
  constructor() {
    super(
      'csrf_token_invalid',
      HttpStatus.FORBIDDEN,
      'A change made with a session cookie needs the X-CSRF-Token header of that session (GET /api/auth/session)',
    );
  }
}
