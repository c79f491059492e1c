import type { Metric, Registry } from 'prom-client';
import { LatencyHistogram } from '../../streams/kernel/metrics.ts';

/** Every 4th bucket bound of LatencyHistogram (×2.44 apart, 24 µs … 231 s): exact cumulative counts, few series. */
const BUCKET_STEP = 4;
const BOUNDS = Array.from({ length: 19 }, (_, k) => (k + 1) * BUCKET_STEP);

export interface LabelledHistogram {
  labels: Record<string, string>;
  histogram: LatencyHistogram;
}

/**
 * A Prometheus histogram (seconds) read from the runtime's own latency histograms on each scrape. prom-client's
 * Histogram can only observe values one by one; the runtime already buckets them, so this hands their cumulative
 * counts to the registry in the shape prom-client's own metrics use (`get()` → `_bucket`, `_sum`, `_count` values).
 */
export function registerLatencyHistogram(
  registry: Registry,
  name: string,
  help: string,
  read: () => readonly LabelledHistogram[],
): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    collect: () => {},
    get: async () => {
      const values = read().flatMap((h) => seriesOf(name, h));
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  // Not one of prom-client's classes, but the interface its registry reads (name, help, type, get).
  registry.registerMetric(metric as unknown as Metric);
}

function seriesOf(name: string, { labels, histogram }: LabelledHistogram) {
  const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
  let cumulative = 0;
  let next = 0;
  for (const i of BOUNDS) {
    while (next <= i) cumulative += histogram.counts[next++]!;
    const le = Number((LatencyHistogram.upperBoundMs(i) / 1000).toPrecision(6));
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  }
  values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: histogram.count });
  values.push({ metricName: `${name}_sum`, labels, value: histogram.sum / 1000 });
  values.push({ metricName: `${name}_count`, labels, value: histogram.count });
  return values;
}
