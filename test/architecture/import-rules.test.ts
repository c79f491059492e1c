import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ImportEdge, RULES, repoImports, violations } from './import-rules.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

const edge = (from: string, to: string, more: Partial<ImportEdge> = {}): ImportEdge => ({
  from,
  to,
  local: true,
  testCode: false,
  ...more,
});

describe('import rules (scripts/architecture.mjs prints the folder graph)', () => {
  it('the repo breaks none of them', () => {
    const edges = repoImports(root);
    // The scan sees the repo: the kernel's own imports and the pipelines' imports of it are there.
    expect(edges.length).toBeGreaterThan(1_000);
    expect(edges).toContainEqual(edge('streams/kernel/runner.ts', 'streams/kernel/run-graph.ts'));
    expect(edges.some((e) => e.from.startsWith('streams/pipelines/') && e.to.startsWith('streams/kernel/'))).toBe(true);
    expect(violations(edges)).toEqual([]);
  });

  it('each rule fails on a forbidden import, and lets the allowed ones through', () => {
    const forbidden: [ImportEdge, string][] = [
      [edge('streams/kernel/pipeline.ts', 'operators/drift/drift-window.ts'), RULES[0]!.name],
      [edge('streams/kernel/stage.test.ts', 'config/settings.ts', { testCode: true }), RULES[0]!.name],
      [edge('streams/kernel/runner.ts', 'kafkajs', { local: false }), RULES[1]!.name],
      [edge('operators/drift/drift-rows.ts', 'connectors/warehouse/tables.ts'), RULES[2]!.name],
      [edge('connectors/labels/label-studio-config.ts', 'streams/pipelines/labels.ts'), RULES[3]!.name],
      [edge('connectors/postings/hn.ts', 'operators/normalize/hn.ts'), RULES[4]!.name],
    ];
    for (const [e, rule] of forbidden) expect(violations([e]).map((v) => v.rule)).toEqual([rule]);

    const allowed = [
      edge('streams/kernel/pipeline.ts', 'streams/kernel/operators/window/window.ts'),
      edge('streams/kernel/parallel-map.ts', 'node:worker_threads', { local: false }),
      edge('streams/kernel/runner.test.ts', 'vitest', { local: false, testCode: true }),
      edge('operators/drift/drift-window.ts', 'streams/kernel/stateful.ts'),
      edge('operators/drift/drift-rows.ts', 'schemas/warehouse-row.ts'),
      edge('connectors/postings/hn.ts', 'schemas/raw-posting.ts'),
      // tests may read real data through a connector
      edge('operators/drift/drift-window.test.ts', 'connectors/postings/index.ts', { testCode: true }),
      edge('streams/pipelines/postings.ts', 'connectors/postings/postings-messages.ts'),
      edge('cli/label.ts', 'streams/pipelines/labels.ts'),
    ];
    expect(violations(allowed)).toEqual([]);
  });
});
