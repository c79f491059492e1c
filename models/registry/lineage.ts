/**
 * Lineage hashes: what a registered model was built from. Every hash is a hex sha256, so two registrations from the
 * same bytes, data and config agree exactly, and changing one input changes only its own hash.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Hash of training data: either bytes, or files/directories (directories are walked). Files are sorted by path and
 * each contributes its length and contents (not its name), so the hash follows what was read, not where it lay.
 */
export function lineageHash(input: Uint8Array | string | readonly string[]): string {
  if (input instanceof Uint8Array) return sha256(input);
  const files = (typeof input === 'string' ? [input] : [...input]).flatMap(expandFiles).sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const bytes = readFileSync(file);
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(bytes.length));
    hash.update(length).update(bytes);
  }
  return hash.digest('hex');
}

function expandFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => expandFiles(join(path, name)));
}

/**
 * Canonical JSON: object keys sorted at every level, no whitespace, `undefined` members dropped. Numbers must be
 * finite (JSON has no NaN), so a config that cannot round-trip is refused instead of hashed ambiguously.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`canonicalJson: ${value} is not representable in JSON`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
}

/** sha256 of a config's canonical JSON: key order and formatting do not matter, values do. */
export const configHash = (config: unknown): string => sha256(canonicalJson(config));
