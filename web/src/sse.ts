/** Reading Server-Sent Events with fetch (EventSource cannot send headers: the key stays in a header, never a URL). */

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 5_000;

/** The wait before reconnect number `failures` + 1: doubling up to a cap, jittered so clients do not return together. */
const retryDelay = (failures: number): number =>
  Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** failures) * (0.75 + Math.random() * 0.5);

/**
 * Feeds an SSE body to `feed` as text until it ends. A silence longer than `silenceMs` ends it too (a dead
 * connection a proxy keeps open looks just like a quiet one): the read is cancelled, which closes the connection.
 */
export async function pump(
  body: ReadableStream<BufferSource>,
  feed: (text: string) => void,
  silenceMs: number,
): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reader.cancel().catch(() => undefined), silenceMs);
  };
  try {
    arm();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      arm();
      feed(value);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** One connection: resolves 'stop' when there is nothing more to read (never retried), anything else is a drop. */
export type Attempt = (
  signal: AbortSignal,
  /** Call once connected: the next drop is retried after the shortest wait again. */
  connected: () => void,
) => Promise<'stop' | void>;

/**
 * Runs `attempt` again after each drop, with growing jittered waits, until it answers 'stop' or `close()` is called.
 * `onRetry` is told before each wait.
 */
export function keepConnected(attempt: Attempt, onRetry: () => void): { close(): void } {
  let failures = 0;
  let closed = false;
  let controller: AbortController | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  async function connect(): Promise<void> {
    controller = new AbortController();
    let outcome: 'stop' | void = undefined;
    try {
      outcome = await attempt(controller.signal, () => (failures = 0));
    } catch {
      // dropped, refused or aborted: retried below unless closed meanwhile
    }
    if (closed || outcome === 'stop') return;
    onRetry();
    retryTimer = setTimeout(() => void connect(), retryDelay(failures++));
  }

  void connect();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      controller?.abort();
    },
  };
}
