/**
 * Writes every MQTT message schema, and the release manifest's, as a JSON Schema file under
 * protocol/schemas/, so a controller written in another language can
 * validate what it sends and receives. The protocol's tests check that the
 * committed files match the code.
 *
 *   npx tsx protocol/scripts/write-schemas.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TSchema } from 'typebox';
import { messageSchemas } from '../src/messages.js';
import { ReleaseManifestSchema, SignedReleaseSchema } from '../src/release.js';

/** Every schema file: the MQTT messages, and a release's manifest and its signed form (REL-1). */
const allSchemas: Record<string, TSchema> = {
  ...messageSchemas,
  'release-manifest': ReleaseManifestSchema,
  'signed-release': SignedReleaseSchema,
};

export function schemaFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, schema] of Object.entries(allSchemas)) {
    const doc = { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: `urn:gatehouse:schema:v1:${name}`, title: name, ...schema };
    out[`${name}.json`] = `${JSON.stringify(doc, null, 2)}\n`;
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = fileURLToPath(new URL('../schemas/', import.meta.url));
  for (const [file, text] of Object.entries(schemaFiles())) writeFileSync(dir + file, text);
  console.log(`wrote ${Object.keys(allSchemas).length} schemas to ${dir}`);
}
