import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Directory holding committed schema snapshots, `<Name>.v<N>.json`. */
export const historyDir = fileURLToPath(new URL('./history/', import.meta.url));

export interface SchemaSnapshot {
  name: string;
  version: number;
  file: string;
  schema: object;
}

/** All committed snapshots of `name`, oldest first. */
export function loadHistory(name: string): SchemaSnapshot[] {
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.v(\\d+)\\.json$`);
  return readdirSync(historyDir)
    .map((file) => ({ file, m: pattern.exec(file) }))
    .filter((x): x is { file: string; m: RegExpExecArray } => x.m !== null)
    .map(({ file, m }) => ({
      name,
      version: Number(m[1]),
      file: join(historyDir, file),
      schema: JSON.parse(readFileSync(join(historyDir, file), 'utf8')) as object,
    }))
    .sort((a, b) => a.version - b.version);
}
