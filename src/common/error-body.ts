import { getCorrelationId } from '../context';

export interface ErrorBody {
  error: string;
  message: string;
  details?: Record<string, unknown>;
  correlation_id: string;
}

/** The one error body of every error response, so clients parse a single shape. */
export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  const body: ErrorBody = { error: code, message, correlation_id: getCorrelationId() };
  if (details && Object.keys(details).length > 0) body.details = details;
  return body;
}

/** Maps an HTTP status to the generic error code used when nothing more specific is known. */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
    case 422:
      return 'validation_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limit_exceeded';
    case 502:
      return 'provider_error';
    case 503:
      return 'provider_unavailable';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}
