import type { Settings } from '../config/settings.ts';
import { PrometheusExporter } from '../connectors/metrics/prometheus-exporter.ts';

export interface MetricsOptions {
  /** --metrics-port: overrides DRIFTLINE_METRICS_PORT. */
  metricsPort?: number;
  /** --metrics-host: overrides DRIFTLINE_METRICS_HOST. */
  metricsHost?: string;
  quiet?: boolean;
}

/** The Prometheus exporter of a run or replay when a metrics port is set (flag or variable); off otherwise. */
export async function startMetricsExporter(
  pipeline: string,
  settings: Pick<Settings, 'metricsPort' | 'metricsHost'>,
  options: MetricsOptions,
): Promise<PrometheusExporter | undefined> {
  const port = options.metricsPort ?? settings.metricsPort;
  if (port === undefined) return undefined;
  const host = options.metricsHost ?? settings.metricsHost;
  const exporter = await PrometheusExporter.start({ pipeline, port, host });
  if (!options.quiet) process.stderr.write(`${pipeline}: Prometheus metrics at ${exporter.url}\n`);
  return exporter;
}
