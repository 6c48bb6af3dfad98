import { splitLines } from './log-pieces';

/** A stored chunk as reads see it: the redacted text of provider bytes [start, end). */
export interface StoredChunk {
  start: number;
  end: number;
  text: string;
  /** The text has exactly the provider's bytes (nothing was redacted): a read may start inside it. */
  exact: boolean;
}

/** Text of a log read, from provider offset `offset` to `next`; `truncated` when it holds the omitted marker. */
export interface LogText {
  offset: number;
  next: number;
  text: string;
  truncated: boolean;
}

/** What stands in a read for the middle of a log that was not kept (`bytes`: provider bytes left out). */
export function omittedMarker(bytes: number): string {
  return `[… ${bytes} bytes omitted …]\n`;
}

/**
 * The chunks (ascending, contiguous but for trimmed gaps) as text from provider offset `from`: a read that starts
 * in a gap or crosses one gets the marker there. Inside a chunk whose text was redacted the read starts at the
 * chunk's own start (its bytes no longer map one to one), which `offset` then says.
 */
export function textFrom(chunks: readonly StoredChunk[], from: number): LogText {
  if (chunks.length === 0) return { offset: from, next: from, text: '', truncated: false };
  let offset = from;
  let cursor = from;
  let text = '';
  let truncated = false;
  for (const chunk of chunks) {
    if (chunk.end <= cursor) continue;
    if (chunk.start > cursor) {
      text += omittedMarker(chunk.start - cursor);
      truncated = true;
      cursor = chunk.start;
    }
    if (cursor > chunk.start) {
      if (chunk.exact) {
        text += Buffer.from(chunk.text, 'utf8')
          .subarray(cursor - chunk.start)
          .toString('utf8');
      } else {
        if (text === '') offset = chunk.start;
        text += chunk.text;
      }
    } else {
      text += chunk.text;
    }
    cursor = chunk.end;
  }
  return { offset: Math.min(offset, cursor), next: cursor, text, truncated };
}

/**
 * The last `lines` lines of the chunks (which end at the log's end), at most `maxBytes` of text: where they start
 * is a line start, so its provider offset is known (a redacted line is a chunk of its own). A gap between chunks is
 * a line of its own, the marker.
 */
export function lastLines(chunks: readonly StoredChunk[], lines: number, maxBytes: number): LogText {
  if (chunks.length === 0 || lines <= 0) {
    const end = chunks.length ? chunks[chunks.length - 1].end : 0;
    return { offset: end, next: end, text: '', truncated: false };
  }
  const next = chunks[chunks.length - 1].end;
  const parts: string[] = [];
  let taken = 0;
  let bytes = 0;
  let offset = next;
  let truncated = false;
  for (let i = chunks.length - 1; i >= 0 && taken < lines; i--) {
    const chunk = chunks[i];
    const chunkLines = splitLines(chunk.text);
    let lineEnd = chunk.end;
    for (let j = chunkLines.length - 1; j >= 0 && taken < lines; j--) {
      const size = Buffer.byteLength(chunkLines[j]);
      if (bytes + size > maxBytes && taken > 0) return { offset, next, text: parts.join(''), truncated };
      parts.unshift(chunkLines[j]);
      taken++;
      bytes += size;
      // Exact chunks map byte for byte; a redacted one is a single line, so it starts at the chunk's start.
      offset = chunk.exact ? lineEnd - size : chunk.start;
      lineEnd = offset;
    }
    const before = chunks[i - 1];
    if (taken < lines && before && before.end < chunk.start) {
      parts.unshift(omittedMarker(chunk.start - before.end));
      taken++;
      truncated = true;
      offset = before.end;
    }
  }
  return { offset, next, text: parts.join(''), truncated };
}
