/**
 * The table `driftline bench` prints: one line per model variant × backend × threads, with its SingleStream
 * latency, best Offline throughput (and at which batch size), Server rate under the bound, energy per 1,000
 * SingleStream inferences and held-out accuracy. Every row is in the JSON file and the warehouse.
 */
import { formatRows } from '../../cli/sql.ts';
import type { BenchResultRow } from './result-rows.ts';

const fixed = (n: number | null, digits: number) => (n === null ? '—' : n.toFixed(digits));
const perSecond = (n: number) => Math.round(n).toLocaleString('en-US');

export function summaryTable(rows: BenchResultRow[]): string {
  const groups = new Map<string, BenchResultRow[]>();
  for (const r of rows) {
    const key = [r.model_id, r.model_version, r.variant, r.backend, r.threads].join('|');
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const lines = [...groups.values()].map((g) => {
    const single = g.find((r) => r.scenario === 'SingleStream');
    const bestOffline = g
      .filter((r) => r.scenario === 'Offline')
      .reduce<BenchResultRow | undefined>((a, b) => (!a || b.items_per_s > a.items_per_s ? b : a), undefined);
    const srv = g.find((r) => r.scenario === 'Server');
    const first = g[0]!;
    return {
      model: `${first.model_id}@${first.model_version}`,
      variant: first.variant,
      backend: first.backend,
      threads: first.threads,
      'p50 ms': fixed(single?.p50_ms ?? null, 3),
      'p99 ms': fixed(single?.p99_ms ?? null, 3),
      'offline items/s': bestOffline ? `${perSecond(bestOffline.items_per_s)} @${bestOffline.batch_size}` : '—',
      'server items/s': srv?.server_rate ? perSecond(srv.server_rate) : '—',
      'J/1k': single ? `${single.energy_j_per_1k.toFixed(3)} ${single.energy_method}` : '—',
      accuracy: fixed(first.accuracy, 4),
      'rss MB': Math.round(Math.max(...g.map((r) => r.peak_rss_mb))),
      'model MB': fixed(first.model_memory_mb, 1),
    };
  });
  return formatRows(lines, 'table');
}
