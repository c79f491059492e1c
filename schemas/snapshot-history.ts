// Writes schemas/history/<Name>.v<N+1>.json for every schema that differs from its latest snapshot,
// after checking the change is backward compatible with every earlier snapshot.
//
//   npx tsx schemas/snapshot-history.ts            # all schemas
//   npx tsx schemas/snapshot-history.ts JobPosting # one
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { assertBackwardCompatible } from './compatibility.ts';
import { historyDir, loadHistory } from './history.ts';
import { isSchemaName, schemaNames, schemas, type SchemaName } from './registry.ts';

const args = process.argv.slice(2);
for (const a of args) if (!isSchemaName(a)) throw new Error(`unknown schema ${a}; known: ${schemaNames.join(', ')}`);
const names = (args.length ? args : schemaNames) as SchemaName[];

for (const name of names) {
  const current = JSON.parse(JSON.stringify(schemas[name].schema)) as object;
  const history = loadHistory(name);
  const latest = history.at(-1);
  if (latest && isDeepStrictEqual(latest.schema, current)) {
    console.log(`${name}: unchanged (v${latest.version})`);
    continue;
  }
  for (const snap of history) assertBackwardCompatible(snap.schema, current, `${name} v${snap.version}`);
  const version = (latest?.version ?? 0) + 1;
  const file = join(historyDir, `${name}.v${version}.json`);
  writeFileSync(file, `${JSON.stringify(current, null, 2)}\n`);
  console.log(`${name}: wrote ${file}`);
}
