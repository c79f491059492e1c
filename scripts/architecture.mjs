#!/usr/bin/env node
// The shape of the code, for anyone to check: the import graph by folder (edge counts, cycles) and the largest
// functions. Usage: node scripts/architecture.mjs [repo root] [--top N]
// The root defaults to this checkout; point it at another checkout (a `git worktree` of an older commit) to compare.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 15;
const root = resolve(args[0] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));

const SOURCE = /\.(ts|mts|js|mjs)$/;
const IGNORED = /^(node_modules|dist|\.services)\//;

/** Files git knows (tracked or new, not ignored) that still exist: moved files show up at their new path only. */
function sourceFiles() {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = out.split('\n').filter((f) => SOURCE.test(f) && !IGNORED.test(f) && !f.endsWith('.d.ts'));
  return [...new Set(files)].filter((f) => existsSync(join(root, f))).sort();
}

/** Tests, benchmarks and test helpers (anything importing vitest) are left out: the graph is the product's. */
const isTestCode = (file, text) => /\.test\.|\.bench\.|^(test|bench)\//.test(file) || /from ['"]vitest['"]/.test(text);

/** Relative import specifiers of a file: static imports, re-exports and dynamic `import('…')` with a literal. */
function importsOf(text) {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith('./') || s.startsWith('../'));
}

/**
 * The unit a file belongs to: its top-level folder, or `streams/kernel` and `streams/pipelines` when `split`
 * (streams/ holds both the runtime kernel and the pipeline definitions, which sit at opposite ends of the graph).
 */
function unitOf(file, split) {
  const parts = file.split('/');
  if (parts.length === 1) return '(root)';
  if (split && parts[0] === 'streams' && ['kernel', 'pipelines'].includes(parts[1]) && parts.length > 2)
    return `streams/${parts[1]}`;
  return parts[0];
}

/** Edge counts between units: one per import statement from a file of one unit to a file of another. */
function folderGraph(files, split) {
  const edges = new Map();
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    if (isTestCode(file, text)) continue;
    for (const spec of importsOf(text)) {
      const target = relative(root, resolve(root, dirname(file), spec));
      if (target.startsWith('..')) continue;
      const [from, to] = [unitOf(file, split), unitOf(target, split)];
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      edges.set(key, (edges.get(key) ?? 0) + 1);
    }
  }
  return edges;
}

/** Strongly connected components with more than one unit: the folder cycles (Tarjan). */
function cycles(edges) {
  const next = new Map();
  for (const key of edges.keys()) {
    const [from, to] = key.split(' -> ');
    if (!next.has(from)) next.set(from, []);
    if (!next.has(to)) next.set(to, []);
    next.get(from).push(to);
  }
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let counter = 0;
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** A readable name for a function node: its declaration, variable, property or the call it is passed to. */
function nameOf(node, sf) {
  if (node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return `${node.parent.name?.getText(sf) ?? 'class'} constructor`;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText(sf);
  if (ts.isCallExpression(parent)) return `${parent.expression.getText(sf).slice(0, 40)}(…) callback`;
  return '(anonymous)';
}

function largestFunctions(files) {
  const found = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    if (isTestCode(file, text)) continue;
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
        found.push({ lines: end - start + 1, where: `${file}:${start}`, name: nameOf(node, sf) });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found.sort((a, b) => b.lines - a.lines).slice(0, top);
}

function printGraph(title, edges) {
  console.log(`\n## ${title}\n`);
  const rows = [...edges].sort(([a], [b]) => a.localeCompare(b));
  for (const [edge, count] of rows) console.log(`${edge.padEnd(44)} ${String(count).padStart(5)}`);
  const found = cycles(edges);
  console.log(found.length ? `cycles: ${found.map((c) => `{${c.join(', ')}}`).join(' ')}` : 'cycles: none');
}

const files = sourceFiles();
console.log(`# Architecture of ${root}: ${files.length} source files`);
printGraph(
  'Imports by top-level folder (import statements between folders; tests and benchmarks left out)',
  folderGraph(files, false),
);
printGraph('The same, streams/ split into streams/kernel and streams/pipelines', folderGraph(files, true));
console.log(`\n## The ${top} largest functions (lines; tests, test helpers and benchmarks left out)\n`);
for (const f of largestFunctions(files)) console.log(`${String(f.lines).padStart(5)}  ${f.name}  (${f.where})`);
