import * as path from 'node:path';

/** `source` of a line: the call site in our own code. */
export interface CallSite {
  file: string;
  line: number;
  function: string;
}

// Frames that belong to the logging machinery, not to the caller.
const INTERNAL =
  /[\\/](src|dist[\\/]src)[\\/]logging[\\/]|[\\/]node_modules[\\/](pino|nestjs-pino|sonic-boom|@nestjs[\\/]common[\\/]services)[\\/]|^node:/;
const DEPENDENCY = /[\\/]node_modules[\\/]/;

type V8CallSite = NodeJS.CallSite;

function frameSite(f: V8CallSite): CallSite {
  const fn = f.getFunctionName();
  const type = f.getTypeName();
  const method = f.getMethodName();
  let name = fn ?? method ?? '<anonymous>';
  if (
    type &&
    type !== 'Object' &&
    !name.includes('.') &&
    f.getThis?.() !== undefined &&
    (fn === null || method !== null)
  ) {
    name = `${type}.${name}`;
  }
  return { file: path.basename(f.getFileName() ?? '<unknown>'), line: f.getLineNumber() ?? 0, function: name };
}

/**
 * The run-time fallback when no call site was compiled in (code the transformer did not see, Nest's own
 * Logger): one structured stack capture, the first frame of our own code outside the logging machinery. A line
 * that no code of ours caused (Nest's own boot lines) gets null rather than a dependency's frame, which would
 * point users at code they cannot change. Costs several µs; the compile-time transformer avoids it for getLogger().
 */
export function captureCallSite(): CallSite | null {
  // Saved to be put back as it was: it is never called here, so losing `this` does not matter.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let frames: V8CallSite[];
  try {
    Error.stackTraceLimit = 40;
    Error.prepareStackTrace = (_err, stack) => stack;
    const holder: { stack?: V8CallSite[] } = {};
    Error.captureStackTrace(holder, captureCallSite);
    frames = holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  for (const f of frames) {
    const file = f.getFileName();
    if (!file || INTERNAL.test(file) || DEPENDENCY.test(file)) continue;
    return frameSite(f);
  }
  return null;
}
