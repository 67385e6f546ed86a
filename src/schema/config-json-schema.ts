/**
 * repro-gate.yml as a JSON Schema, for editors (yaml-language-server) and other validators:
 * generated from the zod schema, whose `.describe()`/`.meta()` give each field its description.
 * It checks what JSON Schema can say (keys, types, enums, ranges, patterns); the cross-field rules
 * (a margin per metric in statistical mode, robust without paired, …) stay with the gate's loader.
 */
import { z } from 'zod';
import { configFileSchema } from './config.js';

/** Where the generated schema is committed (and shipped in the package). */
export const CONFIG_JSON_SCHEMA_PATH = 'schema/repro-gate.schema.json';

function configJsonSchema(): Record<string, unknown> {
  const { $schema, ...schema } = z.toJSONSchema(configFileSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema,
    title: 'repro-gate.yml',
    description:
      'The repro-gate config: how to train, which seeds, and how each metric is compared with the committed baseline.',
    ...schema,
  };
}

/** The committed file's text: two-space JSON with a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
