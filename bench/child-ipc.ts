/** Child processes of the benches: their IPC replies. */
import type { ChildProcess } from 'node:child_process';

/**
 * The child's next message of `kind`. A `{ kind: 'failed', error }` message, the child's exit or the timeout
 * reject instead.
 */
export function nextMessage<T>(child: ChildProcess, kind: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${kind}`));
    }, timeoutMs);
    const onMessage = (m: { kind: string; error?: string }) => {
      if (m.kind === 'failed') {
        done();
        reject(new Error(`child failed while we waited for ${kind}: ${m.error}`));
      } else if (m.kind === kind) {
        done();
        resolve(m as T);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`child exited (${code ?? signal}) while we waited for ${kind}`));
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
