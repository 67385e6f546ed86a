/**
 * Text bound for a CI log, made unable to act as a workflow command. The GitHub runner reads any
 * output line that starts with `::` (after leading white space) as a command (`::add-mask::`,
 * `::error::`, `::stop-commands::`…), and a lone `\r` ends a line for it too. Repository text
 * (training output, file names, argv) reaches our log lines, so every such line gets a prefix.
 */
export function inertLogLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).map((line) => (/^\s*::/u.test(line) ? `[repro-gate] ${line}` : line));
}
