import type { ErrorBody } from './api-types';
import { authHeaders, cookieMode, type Credentials } from './session';

/**
 * The one way the page talks to the API: same origin, the key in the X-API-Key header (never in a URL) or the
 * session cookie with its CSRF token on changes, and every
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

/** Bytes of an upload sent so far, of how many. */
type UploadProgress = (sent: number, total: number) => void;

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  /** POST of a file as the raw body, with its Content-Type, reporting the bytes sent; `signal` aborts it. */
  upload<T>(path: string, file: Blob, contentType: string, onProgress: UploadProgress, signal: AbortSignal): Promise<T>;
  /** GET of a file (an artifact) as a Blob: the key goes in the header, so a plain link cannot fetch it. */
  download(path: string): Promise<Blob>;
  /**
   * Opens an SSE route (`text/event-stream`) with the key in the header, resuming after `lastEventId`; the caller
   * reads the body. The answer is returned as it comes, error statuses included.
   */
  openStream(path: string, lastEventId: string | null, signal: AbortSignal): Promise<Response>;
}

/** The answer's body, or an ApiError with the API's message and correlation id. */
function answer<T>(status: number, statusText: string, text: string, headerCorrelationId: string | null): T {
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below with the status
  }
  if (status < 200 || status > 299) {
    // A proxy in between may answer with anything: every field may be missing.
    const e = (parsed ?? {}) as Partial<ErrorBody>;
    throw new ApiError(
      status,
      e.error ?? `http_${status}`,
      e.message ?? `The service answered ${status} ${statusText}`,
      e.correlation_id ?? headerCorrelationId,
      e.details ?? null,
    );
  }
  return parsed as T;
}

async function request<T>(cred: Credentials, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(cred, method), Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: cookieMode(cred),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The service did not answer (network error)', null);
  }
  return answer<T>(res.status, res.statusText, await res.text(), res.headers.get('X-Correlation-ID'));
}

/** A file body; an error answer is read as any other (its JSON message and correlation id). */
async function fetchFile(cred: Credentials, path: string): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(path, { headers: authHeaders(cred), cache: 'no-store', credentials: cookieMode(cred) });
  } catch {
    throw new ApiError(0, 'network_error', 'The service did not answer (network error)', null);
  }
  if (!res.ok) answer(res.status, res.statusText, await res.text(), res.headers.get('X-Correlation-ID'));
  // Chromium and Firefox keep a large blob on disk rather than in the page's memory.
  return res.blob();
}

/**
 * An upload with XMLHttpRequest, the one browser API that reports how much of a request body has been sent (fetch
 * does not). Same rules as `request`: the key in the header (no cookies) or the session's CSRF token, errors as
 * ApiError.
 */
function sendFile<T>(
  cred: Credentials,
  path: string,
  file: Blob,
  contentType: string,
  onProgress: UploadProgress,
  signal: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    // Same origin: the browser sends the session cookie (if any) whatever withCredentials says.
    xhr.withCredentials = false;
    for (const [name, value] of Object.entries(authHeaders(cred, 'POST'))) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      try {
        resolve(answer<T>(xhr.status, xhr.statusText, xhr.responseText, xhr.getResponseHeader('X-Correlation-ID')));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'The service did not answer (network error)', null));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'The upload was cancelled', null));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

export function createApi(cred: Credentials, onUnauthorized: (err: ApiError) => void): Api {
  const signOutOn401 = async <T>(sent: Promise<T>): Promise<T> => {
    try {
      return await sent;
    } catch (err) {
      // A key revoked or expired while the page is open: back to the sign-in form with the API's message.
      if (err instanceof ApiError && err.status === 401) onUnauthorized(err);
      throw err;
    }
  };
  return {
    get: <T>(path: string) => signOutOn401(request<T>(cred, 'GET', path)),
    post: <T>(path: string, body?: unknown) => signOutOn401(request<T>(cred, 'POST', path, body ?? {})),
    patch: <T>(path: string, body: unknown) => signOutOn401(request<T>(cred, 'PATCH', path, body)),
    upload: <T>(path: string, file: Blob, contentType: string, onProgress: UploadProgress, signal: AbortSignal) =>
      signOutOn401(sendFile<T>(cred, path, file, contentType, onProgress, signal)),
    download: (path: string) => signOutOn401(fetchFile(cred, path)),
    openStream: (path: string, lastEventId: string | null, signal: AbortSignal) =>
      fetch(path, {
        headers: {
          ...authHeaders(cred),
          Accept: 'text/event-stream',
          ...(lastEventId === null ? {} : { 'Last-Event-ID': lastEventId }),
        },
        signal,
        cache: 'no-store',
        credentials: cookieMode(cred),
      }),
  };
}

/** Sign-in check: who owns this key. */
export function fetchMe<T>(key: string): Promise<T> {
  return request<T>({ kind: 'key', key }, 'GET', '/api/users/me');
}

/** A GET with the browser's cookies and no key: the session route and the public sign-in settings. */
const BROWSER: Credentials = { kind: 'session', csrfToken: '' };

/** The single sign-on session of this browser, if any (401 without one). */
export function fetchSession<T>(): Promise<T> {
  return request<T>(BROWSER, 'GET', '/api/auth/session');
}

/** Whether single sign-on is offered, and where it starts. */
export function fetchAuthConfig<T>(): Promise<T> {
  return request<T>(BROWSER, 'GET', '/api/auth/config');
}

/** Ends the session (its cookie is cleared by the answer). */
export function signOutSession(csrfToken: string): Promise<void> {
  return request<void>({ kind: 'session', csrfToken }, 'POST', '/api/auth/logout');
}
