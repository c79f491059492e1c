import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PrometheusExporter } from './prometheus-exporter.ts';

const DASHBOARD = 'docs/grafana/driftline.json';
/** Exported but not on the dashboard: the panels show records out and batch latency instead. */
const NOT_ON_DASHBOARD = ['driftline_stage_records_in_total', 'driftline_stage_batches_total'];
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);
const PROMQL_OPERATORS = new Set(['and', 'or', 'unless']);
const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string }[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { query?: unknown }[] };
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const expressions = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
/** `label_values(metric, label)` of the template variables, as the metric's name. */
const variableMetrics = dashboard.templating.list
  .map((v) => (typeof v.query === 'string' ? /^label_values\((\w+),/.exec(v.query)?.[1] : undefined))
  .filter((name) => name !== undefined);

/** Grafana's variables as Prometheus would see them once Grafana has filled them in. */
const filledIn = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replace(/\$(pipeline|job)\b/g, '.*');

/** Metric names a PromQL expression reads: identifiers outside label matchers, ranges, strings and label lists. */
function metricNames(expr: string): string[] {
  const bare = filledIn(expr)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const identifiers = [...bare.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)].map((m) => m[1]!);
  return identifiers.filter((name) => !PROMQL_WORDS.has(name) && !PROMQL_OPERATORS.has(name));
}

/** The exporter's metric families, and every series name they produce (histograms: _bucket, _sum, _count). */
async function exported(): Promise<{ families: string[]; series: Set<string> }> {
  const metrics = await new PrometheusExporter('dashboard-test').registry.getMetricsAsJSON();
  const seriesOf = (m: { name: string; type: unknown }) =>
    String(m.type) === 'histogram' ? HISTOGRAM_SERIES.map((suffix) => m.name + suffix) : [m.name];
  const series = metrics.flatMap(seriesOf);
  return { families: metrics.map((m) => m.name), series: new Set(series) };
}

describe(`Grafana dashboard ${DASHBOARD}`, () => {
  it('reads only metrics the exporter serves, and shows every driftline metric', async () => {
    expect(panels.length).toBeGreaterThan(10);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
    expect(variableMetrics.length).toBeGreaterThan(0);
    const { families, series } = await exported();
    const used = new Set<string>();
    for (const expr of [...expressions, ...variableMetrics]) {
      const names = metricNames(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) {
        expect(series.has(name), `${name} in ${expr}`).toBe(true);
        used.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    const missing = families.filter((n) => n.startsWith('driftline_') && !used.has(n) && !NOT_ON_DASHBOARD.includes(n));
    expect(missing).toEqual([]);
  });

  it('every expression parses as PromQL (promtool, the parser of the Prometheus server)', () => {
    const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    if (promtool.status !== 0) throw new Error('promtool (package prometheus) missing: bash scripts/services.sh up');
    const rule = (expr: string, i: number) =>
      `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(filledIn(expr))}\n`;
    const rules = expressions.map(rule);
    const file = join(mkdtempSync(join(tmpdir(), 'driftline-dashboard-')), 'rules.yml');
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
    const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout).toContain(`${expressions.length} rules found`);
  });
});
