import type { Registry } from 'prom-client';
import type { LiveRun } from '../../streams/kernel/live-run.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import { driftlineRegistry } from './metrics-registry.ts';
import { type MetricsServer, serveMetrics } from './metrics-server.ts';
import { observedWarehouse } from './observed-warehouse.ts';
import { SinkFigures } from './sink-figures.ts';

export interface PrometheusExporterOptions {
  pipeline: string;
  port: number;
  /** Interface to listen on. Default 127.0.0.1 (loopback only). */
  host?: string;
}

/**
 * Prometheus metrics of one `driftline run` or `replay`: give `onStart` to runPipeline, open the warehouse through
 * `observe`, and Prometheus can scrape `url` until `close`. Everything is read from the run when scraped.
 */
export class PrometheusExporter {
  private live: LiveRun | undefined;
  private server: MetricsServer | undefined;
  private readonly sinks = new SinkFigures();
  readonly registry: Registry;

  /** An exporter without a server (tests, or to serve `registry` some other way); `start` serves it. */
  constructor(pipeline: string) {
    this.registry = driftlineRegistry({ pipeline, live: () => this.live, sinks: this.sinks });
  }

  /** An exporter serving /metrics on host:port (port 0: a free one; see `url`). */
  static async start(options: PrometheusExporterOptions): Promise<PrometheusExporter> {
    const exporter = new PrometheusExporter(options.pipeline);
    exporter.server = await serveMetrics(exporter.registry, options.host ?? '127.0.0.1', options.port);
    return exporter;
  }

  get url(): string | undefined {
    return this.server?.url;
  }

  /** The runner's `onStart` hook. */
  readonly onStart = (live: LiveRun): void => {
    this.live = live;
  };

  /** The warehouse, with its sinks reporting rows, rejections, insert errors and ML figures. */
  observe(warehouse: Warehouse): Warehouse {
    return observedWarehouse(warehouse, this.sinks);
  }

  async close(): Promise<void> {
    await this.server?.close();
  }
}
