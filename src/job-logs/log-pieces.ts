import { REDACTED, redactString } from '../common/secrets';

/** A stored chunk's size limit: appends are cut into pieces of whole lines up to this many bytes. */
export const PIECE_BYTES = 64 * 1024;
/** A line longer than this is stored without waiting for its end (a trainer that never prints a newline). */
const MAX_HELD_LINE_BYTES = PIECE_BYTES;
/** Shorter secret values are not searched for: masking every `abc` in a log would hide more than a secret. */
const MIN_SECRET_LENGTH = 6;

/**
 * A piece of an append: the redacted text of provider bytes [start, end). `exact` when nothing was redacted, so its
 * text has exactly those bytes and a read may start inside it; a redacted line is always a piece of its own.
 */
interface LogPiece {
  start: number;
  end: number;
  text: string;
  bytes: number;
  exact: boolean;
}

export interface NewLogText {
  pieces: LogPiece[];
  /** Provider bytes consumed: the next append starts here. Less than the log's length while a line is unfinished. */
  consumed: number;
}

/** Each line with its terminator (`\n`, `\r\n` or a lone `\r`, which progress bars use to redraw a line). */
export function splitLines(text: string): string[] {
  const lines: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      lines.push(text.slice(from, i + 1));
      from = i + 1;
    }
  }
  if (from < text.length) lines.push(text.slice(from));
  return lines;
}

const endsLine = (line: string) => line.endsWith('\n') || line.endsWith('\r');

/** The job's secret values and anything shaped like a credential (`Bearer …`, `r8_…`, `hf_…`) masked. */
export function redactLine(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const value of secrets)
    if (value.length >= MIN_SECRET_LENGTH && out.includes(value)) out = out.split(value).join(REDACTED);
  return redactString(out);
}

/**
 * What to store of a provider's whole log, given the bytes already consumed: the new part, cut at the last line end
 * unless `final` (an unfinished line is read again, whole, by the next append, so a token split across two polls is
 * still recognised), redacted line by line and grouped into pieces. Offsets are bytes of the log as the provider
 * wrote it; a piece's `bytes` are of its redacted text. A log shorter than what was consumed (the provider dropped
 * it) gives nothing.
 */
export function newLogText(log: string, consumed: number, secrets: readonly string[], final: boolean): NewLogText {
  const all = Buffer.from(log, 'utf8');
  if (all.length <= consumed) return { pieces: [], consumed };
  const lines = splitLines(all.subarray(consumed).toString('utf8'));
  const pieces: LogPiece[] = [];
  let offset = consumed;
  let open: LogPiece | null = null;
  for (const line of lines) {
    const size = Buffer.byteLength(line);
    if (!final && !endsLine(line) && size <= MAX_HELD_LINE_BYTES) break;
    const redacted = redactLine(line, secrets);
    const exact = redacted === line;
    const piece: LogPiece = {
      start: offset,
      end: offset + size,
      text: redacted,
      bytes: Buffer.byteLength(redacted),
      exact,
    };
    offset += size;
    if (exact && open && open.bytes + piece.bytes <= PIECE_BYTES) {
      open.text += piece.text;
      open.end = piece.end;
      open.bytes += piece.bytes;
      continue;
    }
    pieces.push(piece);
    open = exact ? piece : null;
  }
  return { pieces, consumed: offset };
}
