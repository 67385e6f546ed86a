/** The GateError a config text is refused with (the test fails when it is accepted). */
import { expect } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { GateError } from '../../src/util/errors.js';

export function configErrorOf(text: string): GateError {
  try {
    parseConfig(text, '/p/repro-gate.yml');
  } catch (err) {
    expect(err).toBeInstanceOf(GateError);
    return err as GateError;
  }
  throw new Error('expected a GateError');
}
