import { describe, expect, it } from 'vitest';
import { describeTextChange } from '../src/drift/text-change.js';

describe('text data change summary', () => {
  it('names changed lines, or how many and the first', () => {
    expect(describeTextChange('a\nb\nc\n', 'a\nB\nc\n')).toBe('line 2 changed (of 3)');
    expect(describeTextChange('a\nb\nc\nd\ne\n', 'A\nB\nc\nD\nE\n')).toBe('4 lines (first at line 1) changed (of 5)');
  });

  it('counts lines added or removed at the end', () => {
    expect(describeTextChange('a\nb\n', 'a\nb\nc\nd\n')).toBe('2 lines added at the end (of 2)');
    expect(describeTextChange('a\nb\nc\n', 'a\nx\n')).toBe('line 2 changed, 1 line removed from the end (of 3)');
  });

  it('notices whitespace-only changes and leaves binary files alone', () => {
    expect(describeTextChange('a\nb\n', 'a\r\nb\r\n')).toBe('line endings or whitespace changed');
    expect(describeTextChange('a\0b', 'a\0c')).toBeUndefined();
    expect(describeTextChange('same\n', 'same\n')).toBeUndefined();
  });
});
