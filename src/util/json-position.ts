/**
 * Where invalid JSON goes wrong, without quoting it. V8's JSON.parse messages only sometimes carry
 * a position, and they quote the text around the error ("Unexpected token 'S', "SECRET-CON"... is
 * not valid JSON"), which must never reach a report. So a failed parse is re-scanned here: the
 * scanner is iterative (any nesting depth) and says what it expected in its own words.
 */

export interface JsonErrorPosition {
  /** UTF-16 offset of the first character that cannot be part of valid JSON (the length at a premature end). */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column, in UTF-16 code units. */
  column: number;
  /** What is wrong there, in words that never quote the text: "unexpected end of input", … */
  reason: string;
}

class ScanError {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const PYTHON_TOKENS = ['NaN', 'Infinity', '-Infinity'];

/**
 * The offset and reason of the first syntax error in `text`, or undefined when it is valid JSON.
 * `lenient`: also accept Python's bare NaN / Infinity / -Infinity (see lenient-json.ts).
 */
export function jsonErrorOffset(text: string, opts: { lenient?: boolean } = {}): JsonErrorPosition | undefined {
  let i = 0;
  const fail = (reason?: string): never => {
    throw new ScanError(i, reason ?? (i >= text.length ? 'unexpected end of input' : 'unexpected character'));
  };
  const ws = () => {
    for (;;) {
      const c = text[i];
      if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return;
      i++;
    }
  };
  const str = () => {
    i++; // opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string');
      else if (c < ' ') fail('control character in a string (escape it)');
      else if (c === '"') return void i++;
      else if (c === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('invalid \\u escape in a string');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail('invalid escape in a string');
      }
      i++;
    }
  };
  /** `"key":` and the space after it. */
  const key = () => {
    if (text[i] !== '"') fail(i >= text.length ? undefined : 'expected a key in double quotes');
    str();
    ws();
    if (text[i] !== ':') fail(i >= text.length ? undefined : 'expected ":" after a key');
    i++;
    ws();
  };
  /** A scalar at i (string, literal or number); false when there is none. */
  const scalar = (): boolean => {
    const c = text[i];
    if (c === '"') {
      str();
      return true;
    }
    const literals = opts.lenient ? ['true', 'false', 'null', ...PYTHON_TOKENS] : ['true', 'false', 'null'];
    for (const lit of literals) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return true;
      }
    }
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) return false;
    i = NUMBER.lastIndex;
    return true;
  };
  // The open containers, innermost last: '{' or '['. No recursion, so depth is only bounded by memory.
  const stack: string[] = [];
  try {
    ws();
    for (;;) {
      // Expect a value.
      const c = text[i];
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        ws();
        const close = c === '{' ? '}' : ']';
        if (text[i] === close) {
          stack.pop();
          i++;
        } else {
          if (c === '{') key();
          continue; // the first item's value
        }
      } else if (!scalar()) {
        fail(i >= text.length ? undefined : 'expected a value');
      }
      // After a value: close containers or go on to the next item.
      for (;;) {
        ws();
        const open = stack.at(-1);
        if (open === undefined) {
          if (i < text.length) fail('unexpected text after the end of the JSON document');
          return undefined;
        }
        const close = open === '{' ? '}' : ']';
        if (text[i] === close) {
          stack.pop();
          i++;
          continue;
        }
        if (text[i] !== ',') fail(i >= text.length ? undefined : `expected "," or "${close}"`);
        i++;
        ws();
        if (open === '{') key();
        break; // the next item's value
      }
    }
  } catch (e) {
    if (!(e instanceof ScanError)) throw e;
    const [line, column] = lineCol(text, e.offset);
    return { offset: e.offset, line, column, reason: e.reason };
  }
}

/** 1-based line and column (UTF-16 code units) of an offset. */
export function lineCol(text: string, offset: number): [number, number] {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return [line, offset - before.lastIndexOf('\n')];
}

/**
 * "at line 3, column 8 (expected a value)" for invalid JSON, or "" when the scanner finds nothing
 * wrong (the text is valid JSON: the failure was something else, e.g. nesting too deep for a parser).
 * Never quotes the text.
 */
export function jsonErrorWhere(text: string, opts: { lenient?: boolean } = {}): string {
  const pos = jsonErrorOffset(text, opts);
  return pos ? `at line ${pos.line}, column ${pos.column} (${pos.reason})` : '';
}
