/**
 * Turns a stream of output bytes into lines, in time linear in the bytes: only new bytes are
 * scanned, `\n`, `\r\n` and a lone `\r` (progress bars redraw with it) all end a line, and a line
 * kept in memory is capped, so 11 MB of tqdm output costs what 11 MB of plain lines costs.
 */
import { StringDecoder } from 'node:string_decoder';

/** Longest line kept; the rest of a longer line is dropped (it is still in the log file). */
export const MAX_LINE_CHARS = 4096;
const CUT_MARK = ' … (line cut)';

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private cut = false;
  /** The last chunk ended in `\r`: a `\n` starting the next one belongs to the same line end. */
  private afterCR = false;

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.scan(this.decoder.write(chunk));
  }

  /** Emits a last line without a line end, if any. */
  end(): void {
    this.scan(this.decoder.end());
    if (this.pending !== '' || this.cut) this.flushLine();
  }

  private scan(text: string): void {
    let start = 0;
    if (this.afterCR && text.startsWith('\n')) start = 1;
    this.afterCR = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.append(text, start, i);
      this.flushLine();
      if (c === 13) {
        if (i + 1 === text.length) this.afterCR = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.append(text, start, text.length);
  }

  private append(text: string, from: number, to: number): void {
    if (to <= from || this.cut) return;
    const room = MAX_LINE_CHARS - this.pending.length;
    if (to - from <= room) {
      this.pending += text.slice(from, to);
    } else {
      this.pending += text.slice(from, from + room);
      this.cut = true;
    }
  }

  private flushLine(): void {
    const line = this.cut ? `${this.pending}${CUT_MARK}` : this.pending;
    this.pending = '';
    this.cut = false;
    this.emit(line);
  }
}
