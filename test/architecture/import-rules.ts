/**
 * The import rules of the repo's layers, checked by import-rules.test.ts in `npm test`:
 * - the kernel (streams/kernel/) imports nothing of ours outside itself, and no package but Node's own (plus vitest
 *   in its tests and tsx in the parallel-map thread), so the runtime can be read, tested and replaced on its own;
 * - operators/ and connectors/ do not import each other: operators are typed functions over batches, connectors do
 *   the I/O; what both need (record shapes, warehouse rows) lives in schemas/ or in the kernel;
 * - the pipeline definitions (streams/pipelines/) are the top of the graph: only cli/ and reports/ import them.
 * Tests and test helpers of operators/ and connectors/ may cross (an operator test reads real data through a
 * connector); the kernel's may not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** One import: `to` is a repo path (a relative import, resolved) when `local`, else a package specifier. */
export interface ImportEdge {
  from: string;
  to: string;
  local: boolean;
  /** The importing file is a test or test helper (a `.test.ts`, or a file that imports vitest). */
  testCode: boolean;
}

export interface ImportRule {
  name: string;
  /** Whether the edge breaks the rule. */
  forbids(edge: ImportEdge): boolean;
}

const KERNEL = 'streams/kernel/';
/** Packages the kernel may use: Node's own, vitest (its tests), tsx (registered by the parallel-map thread). */
const KERNEL_PACKAGES = /^(node:|vitest$|tsx\/esm\/api$)/;

export const RULES: readonly ImportRule[] = [
  {
    name: 'the kernel imports nothing of ours outside streams/kernel/',
    forbids: (e) => e.from.startsWith(KERNEL) && e.local && !e.to.startsWith(KERNEL),
  },
  {
    name: 'the kernel imports no package but node:*, vitest (tests) and tsx (parallel-map thread)',
    forbids: (e) => e.from.startsWith(KERNEL) && !e.local && !KERNEL_PACKAGES.test(e.to),
  },
  {
    name: 'operators/ does not import connectors/',
    forbids: (e) => !e.testCode && e.from.startsWith('operators/') && e.to.startsWith('connectors/'),
  },
  {
    name: 'pipeline definitions are imported by cli/ and reports/ only',
    forbids: (e) =>
      !e.testCode &&
      e.to.startsWith('streams/pipelines/') &&
      !/^(streams\/pipelines|cli|reports|bench|test)\//.test(e.from),
  },
  {
    name: 'connectors/ does not import operators/',
    forbids: (e) => !e.testCode && e.from.startsWith('connectors/') && e.to.startsWith('operators/'),
  },
];

export const violations = (edges: readonly ImportEdge[], rules: readonly ImportRule[] = RULES) =>
  edges.flatMap((edge) => rules.filter((r) => r.forbids(edge)).map((r) => ({ rule: r.name, ...edge })));

const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.services']);
const SOURCE = /\.(ts|mts|js|mjs|cjs)$/;

function* sourceFiles(root: string, dir = root): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(root, path);
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) yield relative(root, path);
  }
}

/** Worker and fixture files named by URL (`new URL('./x.js', import.meta.url)`) are imports too. */
const URL_IMPORT = /new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g;

/** Every import of every source file under `root`: static, re-export, dynamic with a literal, and worker URLs. */
export function repoImports(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(root)) {
    const text = readFileSync(join(root, file), 'utf8');
    const testCode = /\.test\.[cm]?[jt]s$/.test(file) || /from ['"]vitest['"]/.test(text);
    const specs = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    for (const m of text.matchAll(URL_IMPORT)) specs.push(m[1]!);
    for (const spec of specs) {
      const local = spec.startsWith('./') || spec.startsWith('../');
      const to = local ? relative(root, resolve(root, dirname(file), spec)) : spec;
      edges.push({ from: file, to, local, testCode });
    }
  }
  return edges;
}
