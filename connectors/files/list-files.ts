import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The files under each path (directories walked recursively), sorted so runs are repeatable. */
export function listFiles(paths: string[], accept: (path: string) => boolean = () => true): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) throw new Error(`input ${path} does not exist`);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) walk(join(path, entry));
    } else if (accept(path)) out.push(path);
  };
  for (const p of paths) walk(p);
  return out;
}
