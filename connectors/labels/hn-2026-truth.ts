/**
 * Ground truth for the 2026 HN postings: `hn-hiring-2026/<run>/classified.json` assigns each job a `role` (by a
 * language model). The postings classifier has two classes, so roles are mapped:
 *
 *   data science (1):          Data Scientist, Data Engineer, ML Engineer, AI Engineer
 *   software engineering (0):  Software / Senior / Staff / Principal / Full Stack / Backend / Frontend / Mobile /
 *                              Product Engineer, DevOps / SRE
 *   no label (null):           Other, Engineering Manager, Product Manager, Designer, Sales, Marketing — neither class
 *
 * This mirrors Model A's training labels (Glassdoor's "data science" search also returns data engineer and analyst
 * titles, so class 1 is the data-roles family). Runs overlap: the first classification seen for an id is kept.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Label } from '../../schemas/label.ts';

const DATA_SCIENCE = new Set(['data scientist', 'data engineer', 'ml engineer', 'ai engineer']);
const NOT_ENGINEERING = new Set(['other', 'engineering manager', 'product manager', 'designer', 'sales', 'marketing']);

/** 1 for the data-roles family, 0 for software engineering roles, null for roles that are neither. */
export function roleToClass(role: unknown): 0 | 1 | null {
  if (typeof role !== 'string' || role.trim() === '') return null;
  const r = role.trim().toLowerCase();
  if (DATA_SCIENCE.has(r)) return 1;
  if (NOT_ENGINEERING.has(r)) return null;
  return /engineer|developer|devops|sre/.test(r) ? 0 : null;
}

/** Labels for every classified 2026 job with a mappable role, in sorted run order, first classification per id. */
export async function readHn2026Truth(dir: string): Promise<Label[]> {
  const runs = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return readHn2026TruthFiles(runs.map((run) => join(dir, run, 'classified.json')));
}

/** The same from `<run>/classified.json` files (missing ones skipped), labelled at their run's date. */
export async function readHn2026TruthFiles(files: string[]): Promise<Label[]> {
  const seen = new Set<string>();
  const labels: Label[] = [];
  for (const file of files) {
    let doc: { jobs?: Array<{ id?: unknown; role?: unknown }> };
    try {
      doc = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`${file}: ${(error as Error).message}`);
    }
    const labeledAt = Date.parse(basename(dirname(file))) || 0;
    for (const job of doc.jobs ?? []) {
      const id = job.id === undefined || job.id === null ? '' : String(job.id);
      if (id === '' || seen.has(id)) continue;
      seen.add(id);
      const label = roleToClass(job.role);
      if (label === null) continue;
      labels.push({
        record_id: id,
        label,
        label_name: String(job.role),
        source: 'hn-2026-classified',
        labeled_at: labeledAt,
      });
    }
  }
  return labels;
}
