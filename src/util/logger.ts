import { inertLogLines } from './log-lines.js';

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  /** Where seeds stand ("seed 3/10 · 2m14s elapsed · ~5m left"); `final` once every seed is done. */
  progress?(line: string, final: boolean): void;
  /** Set when the progress line is redrawn in place, so it is worth updating every second. */
  liveProgress?: boolean;
  /** Runs one seed's work with its output folded under `title` (the action's collapsed groups). */
  group?<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

/** What the terminal logger needs of a stream; a test passes its own. */
export interface LogStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Erase the current terminal line and go back to its start. */
const CLEAR_LINE = '\r\x1b[2K';

/**
 * Logs go to stderr so that stdout carries only the report (`--json` stays parseable). On a TTY the
 * progress is one line redrawn in place, lifted out of the way of every log line; elsewhere (CI,
 * a file) each progress update is a plain line.
 */
export function streamLogger(stream: LogStream): Logger {
  let live = '';
  const write = (text: string) => {
    if (live) stream.write(CLEAR_LINE);
    stream.write(`${inertLogLines(text).join('\n')}\n`);
    if (live) stream.write(live);
  };
  return {
    info: (text) => write(text),
    warn: (text) => write(`warning: ${text}`),
    progress: (line, final) => {
      const text = inertLogLines(line).join(' ');
      if (!stream.isTTY) {
        stream.write(`${text}\n`);
        return;
      }
      stream.write(`${CLEAR_LINE}${text}${final ? '\n' : ''}`);
      live = final ? '' : text;
    },
    get liveProgress() {
      return stream.isTTY === true;
    },
  };
}

export const stderrLogger: Logger = streamLogger(process.stderr);
