// Writes schema/repro-gate.schema.json from the zod schema of repro-gate.yml (src/schema/config.ts).
// Run after changing the config schema; test/config-schema.test.ts checks the committed file is fresh.
//   npm run schema
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchemaText } from '../src/schema/config-json-schema.js';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', CONFIG_JSON_SCHEMA_PATH);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, configJsonSchemaText());
console.log(`schema: wrote ${CONFIG_JSON_SCHEMA_PATH}`);
