/**
 * Writes every MQTT message schema as a JSON Schema file under
 * protocol/schemas/, so a controller written in another language can
 * validate what it sends and receives. The protocol's tests check that the
 * committed files match the code.
 *
 *   npx tsx protocol/scripts/write-schemas.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { messageSchemas } from '../src/messages.js';

export function schemaFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, schema] of Object.entries(messageSchemas)) {
    const doc = { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: `urn:gatehouse:schema:v1:${name}`, title: name, ...schema };
    out[`${name}.json`] = `${JSON.stringify(doc, null, 2)}\n`;
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = fileURLToPath(new URL('../schemas/', import.meta.url));
  for (const [file, text] of Object.entries(schemaFiles())) writeFileSync(dir + file, text);
  console.log(`wrote ${Object.keys(messageSchemas).length} schemas to ${dir}`);
}
