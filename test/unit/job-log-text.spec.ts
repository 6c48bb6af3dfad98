import { newLogText, PIECE_BYTES, redactLine, splitLines } from '../../src/job-logs/log-pieces';
import { lastLines, omittedMarker, StoredChunk, textFrom } from '../../src/job-logs/log-text';

const HF = 'hf_abcdefghijklmnopqrstuvwxyz0123';

/** Stores a whole log as appends would (in the given cut points), returning the chunks. */
function store(log: string, cuts: number[], secrets: string[] = []): StoredChunk[] {
  const chunks: StoredChunk[] = [];
  let consumed = 0;
  for (const cut of [...cuts, log.length]) {
    const added = newLogText(log.slice(0, cut), consumed, secrets, cut === log.length);
    chunks.push(...added.pieces);
    consumed = added.consumed;
  }
  return chunks;
}

describe('splitting and redacting new log text', () => {
  it('splits lines at \\n, \\r\\n and a lone \\r (progress bars), keeping terminators', () => {
    expect(splitLines('a\nb\r\nc\rd')).toEqual(['a\n', 'b\r\n', 'c\r', 'd']);
  });

  it('masks the job secret values and credential shapes, line by line', () => {
    expect(redactLine(`token ${HF} and myS3cretValue!\n`, ['myS3cretValue!'])).toBe(
      'token [REDACTED] and [REDACTED]\n',
    );
    expect(redactLine('Authorization: Bearer abcdef123456\n', [])).toContain('Bearer [REDACTED]');
    expect(redactLine('using r8_abcdefghijkl for uploads\n', [])).toBe('using [REDACTED] for uploads\n');
  });

  it('holds an unfinished last line back until it ends, so a token split across two reads is still found', () => {
    const first = newLogText(`ok\nlogin with ${HF.slice(0, 10)}`, 0, [], false);
    expect(first.pieces.map((p) => p.text)).toEqual(['ok\n']);
    expect(first.consumed).toBe(3);
    const second = newLogText(`ok\nlogin with ${HF}\n`, first.consumed, [], false);
    expect(second.pieces.map((p) => p.text)).toEqual(['login with [REDACTED]\n']);
    expect(second.pieces[0]).toMatchObject({ start: 3, exact: false });
  });

  it('counts offsets in bytes of the provider text, whatever redaction did to the stored length', () => {
    const log = `é\nsecret ${HF}\nafter ✓\n`;
    const { pieces, consumed } = newLogText(log, 0, [], true);
    expect(consumed).toBe(Buffer.byteLength(log));
    expect(pieces.map((p) => [p.start, p.end, p.exact])).toEqual([
      [0, 3, true],
      [3, 3 + Buffer.byteLength(`secret ${HF}\n`), false],
      [3 + Buffer.byteLength(`secret ${HF}\n`), consumed, true],
    ]);
    expect(pieces[1].bytes).toBe(Buffer.byteLength('secret [REDACTED]\n'));
  });

  it('adds nothing for a log that did not grow or got shorter, and flushes the last line when final', () => {
    expect(newLogText('abc\n', 4, [], false).pieces).toEqual([]);
    expect(newLogText('ab', 4, [], true)).toEqual({ pieces: [], consumed: 4 });
    expect(newLogText('abc\ndef', 4, [], true).pieces.map((p) => p.text)).toEqual(['def']);
  });

  it('groups unredacted lines into pieces of at most 64 KiB', () => {
    const line = 'x'.repeat(999) + '\n';
    const { pieces } = newLogText(line.repeat(200), 0, [], false);
    expect(pieces.length).toBe(Math.ceil((200 * 1000) / (PIECE_BYTES - (PIECE_BYTES % 1000))));
    expect(pieces.every((p) => p.bytes <= PIECE_BYTES && p.exact)).toBe(true);
  });
});

describe('reading stored chunks', () => {
  const log = Array.from({ length: 10 }, (_, i) => `line ${i} ${i === 4 ? HF : 'plain'}\n`).join('');
  const chunks = store(log, [30, 60, 95]);

  it('reads from any offset of an unredacted chunk, byte for byte', () => {
    const all = textFrom(chunks, 0);
    expect(all.text).toBe(log.replace(HF, '[REDACTED]'));
    expect(all.next).toBe(Buffer.byteLength(log));
    const mid = textFrom(chunks, 5);
    expect(mid).toMatchObject({ offset: 5, text: all.text.slice(5) });
  });

  it('starts a read inside a redacted line at that line', () => {
    const start = log.indexOf('line 4');
    const read = textFrom(chunks, start + 3);
    expect(read.offset).toBe(start);
    expect(read.text.startsWith('line 4 [REDACTED]\n')).toBe(true);
  });

  it('gives the last lines with the offset of their first byte', () => {
    const tail = lastLines(chunks, 3, 1 << 20);
    expect(tail.text).toBe('line 7 plain\nline 8 plain\nline 9 plain\n');
    expect(tail.offset).toBe(log.indexOf('line 7'));
    const five = lastLines(chunks, 6, 1 << 20);
    expect(five.offset).toBe(log.indexOf('line 4'));
    expect(five.text.startsWith('line 4 [REDACTED]\n')).toBe(true);
  });

  it('puts the marker where chunks were trimmed, in offset and tail reads', () => {
    const gapped = chunks.filter((c) => c.end <= 30 || c.start >= 60);
    const gapBytes = gapped.find((c) => c.start >= 60)!.start - gapped.find((c) => c.end <= 30 && c.end > 20)!.end;
    const read = textFrom(gapped, 0);
    expect(read.truncated).toBe(true);
    expect(read.text).toContain(omittedMarker(gapBytes));
    const inGap = textFrom(gapped, 40);
    expect(inGap.text.startsWith(omittedMarker(gapped.find((c) => c.start >= 60)!.start - 40))).toBe(true);
    const tail = lastLines(gapped, 100, 1 << 20);
    expect(tail.offset).toBe(0);
    expect(tail.truncated).toBe(true);
    expect(tail.text).toContain('bytes omitted');
  });
});
