/**
 * What every contender process of the peer bench shares: its arguments (`--name value`) and its one result line,
 * `{"records":…,"seconds":…,"cpuSeconds":…}` on stdout. CPU is the whole process's (every thread), from the start
 * of the timed part; Python contenders print the same line (peers_common.py).
 */
import { existsSync } from 'node:fs';

export function arg(name: string, fallback?: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at > 0 ? process.argv[at + 1] : fallback;
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}

/** Starts the clock and the CPU count; the returned function prints the result line. */
export function startTiming(): (records: number) => void {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  return (records) => {
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu);
    console.log(JSON.stringify({ records, seconds, cpuSeconds: (used.user + used.system) / 1e6 }));
  };
}

/** The 1 KB JSON value of the Kafka map shape, and its map (the same in every contender). */
export const PAD = 'x'.repeat(1_024 - 40);
export const mapValue = (v: { id: number; pad: string }) => ({ ...v, seen: true });

/**
 * The first of `paths` (relative to `root`) that exists, imported: a base checkout may predate a move (the engine
 * moved from `streams/` and `connectors/` into `streams/kernel/`).
 */
// biome-ignore lint/suspicious/noExplicitAny: a module of another checkout, typed where it is used
export async function importFrom(root: string, ...paths: string[]): Promise<Record<string, any>> {
  const path = paths.map((p) => `${root}/${p}`).find((p) => existsSync(p));
  if (!path) throw new Error(`none of ${paths.join(', ')} under ${root}`);
  return import(path);
}
