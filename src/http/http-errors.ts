/** Errors thrown by the outbound HTTP client. Messages never carry query strings or bodies. */
export class HttpClientError extends Error {
  constructor(
    message: string,
    /** The client's name (the circuit breaker's target), e.g. `replicate`. */
    readonly client: string,
    readonly method: string,
    /** Host and path only: the query string is never kept. */
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A non-2xx answer, thrown once retries are exhausted (or the status is not retryable). */
export class HttpStatusError extends HttpClientError {
  constructor(
    client: string,
    method: string,
    target: string,
    readonly status: number,
    readonly body: unknown,
    readonly headers: Headers,
  ) {
    super(`${method} ${target} answered ${status}`, client, method, target);
  }
}

/** An idempotent call that did not answer in time, after its retries. */
export class HttpTimeoutError extends HttpClientError {
  constructor(
    client: string,
    method: string,
    target: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} ${target} timed out after ${timeoutMs} ms`, client, method, target);
  }
}

/** The connection failed. `sent` is false when the request cannot have reached the server (refused, DNS). */
export class HttpNetworkError extends HttpClientError {
  constructor(
    client: string,
    method: string,
    target: string,
    readonly sent: boolean,
    readonly code: string | undefined,
    cause?: unknown,
  ) {
    super(`${method} ${target} failed: ${code ?? 'network error'}`, client, method, target, { cause });
  }
}

/**
 * A non-idempotent call (a provider create) that may have reached the server but gave no answer (timeout or
 * reset after sending). It was NOT retried: the caller must reconcile (e.g. find the prediction by job_id).
 */
export class HttpOutcomeUnknownError extends HttpClientError {
  constructor(
    client: string,
    method: string,
    target: string,
    readonly reason: 'timeout' | 'network',
    cause?: unknown,
  ) {
    super(
      `${method} ${target}: outcome unknown (${reason} after the request may have been sent)`,
      client,
      method,
      target,
      {
        cause,
      },
    );
  }
}

/** The circuit breaker of this client's target is open: the call was not attempted. */
export class CircuitOpenError extends HttpClientError {
  constructor(
    client: string,
    method: string,
    target: string,
    readonly retryAfterMs: number,
  ) {
    super(`Circuit for ${client} is open; ${method} ${target} not attempted`, client, method, target);
  }
}
