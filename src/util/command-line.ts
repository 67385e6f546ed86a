/**
 * The `--key=value` and `--key value` options of a training's argv, read as configuration:
 * `python3 train.py config/small.py --learning_rate=1e-3 --batch_size 32` holds learning_rate and
 * batch_size. Values stay as written (1e-3 is not 0.001), so drift shows what the command says.
 * Arguments holding {seed} or {out} are the gate's own and are left out; an option followed by
 * another option (or nothing) is a flag, `true`.
 */
const PLACEHOLDER = /\{(seed|out)\}/;

/** The config "file" the options are filed under in fingerprints and drift. */
export const COMMAND_LINE = 'command-line';
const OPTION = /^--([A-Za-z_][\w.-]*)(?:=(.*))?$/s;

export function commandLineOptions(argv: readonly string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const m = OPTION.exec(argv[i] ?? '');
    if (!m) continue;
    const key = m[1] ?? '';
    let value: string | true;
    if (m[2] !== undefined) value = m[2];
    else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('-')) {
        value = next;
        i++;
      } else value = true;
    }
    if (typeof value === 'string' && PLACEHOLDER.test(value)) continue;
    out.set(key, value);
  }
  return out;
}

/**
 * The argv with every option value that `commandLineOptions` reads replaced by `…`: what is left is
 * the command's shape, which changes only when the program, script or set of options changes.
 */
export function commandShape(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const m = OPTION.exec(arg);
    if (!m || PLACEHOLDER.test(arg)) {
      out.push(arg);
      continue;
    }
    if (m[2] !== undefined) {
      out.push(`--${m[1]}=…`);
      continue;
    }
    out.push(arg);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      out.push(PLACEHOLDER.test(next) ? next : '…');
      i++;
    }
  }
  return out;
}
