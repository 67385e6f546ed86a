import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_LINE_CHARS } from '../src/runtime/line-splitter.js';

function split(chunks: (string | Buffer)[]): string[] {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c);
  s.end();
  return lines;
}

describe('LineSplitter', () => {
  it('ends lines at \\n, \\r\\n and a lone \\r (progress bars)', () => {
    expect(split(['a\nb\r\nc\rd'])).toEqual(['a', 'b', 'c', 'd']);
    expect(split(['10%|█  |\r', '20%|██ |\r', '100%|███|\n', 'done\n'])).toEqual([
      '10%|█  |',
      '20%|██ |',
      '100%|███|',
      'done',
    ]);
  });

  it('treats \\r\\n split across chunks as one line end', () => {
    expect(split(['one\r', '\ntwo\n'])).toEqual(['one', 'two']);
    expect(split(['one\r', '\r', '\ntwo'])).toEqual(['one', '', 'two']);
  });

  it('keeps multi-byte characters whole across chunk boundaries', () => {
    const bytes = Buffer.from('é€😀\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4, 7), bytes.subarray(7)])).toEqual([
      'é€😀',
    ]);
  });

  it('caps a line kept in memory and says it was cut', () => {
    const long = 'x'.repeat(MAX_LINE_CHARS * 3);
    const [line, next] = split([long.slice(0, 5000), long.slice(5000), '\nnext\n']);
    expect(line).toBe(`${'x'.repeat(MAX_LINE_CHARS)} … (line cut)`);
    expect(next).toBe('next');
  });

  it('emits a last line without a line end, and nothing for empty output', () => {
    expect(split(['tail'])).toEqual(['tail']);
    expect(split([])).toEqual([]);
    expect(split(['\n'])).toEqual(['']);
  });
});
