export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

/** Logs go to stderr so that stdout carries only the report (`--json` stays parseable). */
export const stderrLogger: Logger = {
  info: (line) => process.stderr.write(`${line}\n`),
  warn: (line) => process.stderr.write(`warning: ${line}\n`),
};
