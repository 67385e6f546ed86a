import { inertLogLines } from './log-lines.js';

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

/** Logs go to stderr so that stdout carries only the report (`--json` stays parseable). */
export const stderrLogger: Logger = {
  info: (text) => process.stderr.write(`${inertLogLines(text).join('\n')}\n`),
  warn: (text) => process.stderr.write(`${inertLogLines(`warning: ${text}`).join('\n')}\n`),
};
