import type { ErrorBody } from './api-types';

/**
 * The one way the page talks to the API: same origin, the key in the X-API-Key header (never in a URL), and every
 * error turned into an ApiError carrying the API's own message and correlation id, so the page can show both.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly correlationId: string | null,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
  }

  /** The message and, for validation errors, what each field got wrong. */
  get fullMessage(): string {
    const parts = this.details
      ? Object.entries(this.details)
          .filter(([, v]) => typeof v === 'string')
          .map(([k, v]) => `${k}: ${v as string}`)
      : [];
    return parts.length ? `${this.message} (${parts.join('; ')})` : this.message;
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
}

async function request<T>(key: string, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'X-API-Key': key, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The service did not answer (network error)', null);
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below with the status
  }
  if (!res.ok) {
    // A proxy in between may answer with anything: every field may be missing.
    const e = (parsed ?? {}) as Partial<ErrorBody>;
    throw new ApiError(
      res.status,
      e.error ?? `http_${res.status}`,
      e.message ?? `The service answered ${res.status} ${res.statusText}`,
      e.correlation_id ?? res.headers.get('X-Correlation-ID'),
      e.details ?? null,
    );
  }
  return parsed as T;
}

export function createApi(key: string, onUnauthorized: (err: ApiError) => void): Api {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    try {
      return await request<T>(key, method, path, body);
    } catch (err) {
      // A key revoked or expired while the page is open: back to the sign-in form with the API's message.
      if (err instanceof ApiError && err.status === 401) onUnauthorized(err);
      throw err;
    }
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
  };
}

/** Sign-in check: who owns this key. */
export function fetchMe<T>(key: string): Promise<T> {
  return request<T>(key, 'GET', '/api/users/me');
}
