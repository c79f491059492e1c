import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEventFile } from '../../connectors/files/event-files.ts';
import { eventsPipeline } from '../../streams/pipelines/events.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataFile } from '../data-dir.ts';
import { testKafka, uniqueName } from '../kafka/kafka-test-helpers.ts';
import { driftline, exitOf, sleep } from './cli.ts';

const prometheusFound = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
const TIMEOUT_MS = 150_000; // generous: the machine is shared; nothing here is a timed assertion

const dir = mkdtempSync(join(tmpdir(), 'driftline-prometheus-'));
const database = `driftline_prom_${Date.now().toString(36)}`;
const env = {
  DRIFTLINE_TOPIC_PREFIX: `${uniqueName('prom')}.`,
  DRIFTLINE_HOME: join(dir, 'home'),
  CLICKHOUSE_DATABASE: database,
  DRIFTLINE_DATA_DIR: join(dir, 'no-data'), // no NAB labels: the run does not score alerts at the end
};
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const clickhouseUrl = process.env.CLICKHOUSE_URL;
  const clickhouse = await openWarehouse({ home: env.DRIFTLINE_HOME, clickhouseUrl, clickhouseDatabase: database });
  await clickhouse.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
  await clickhouse.close();
});

/** A port nothing listens on now (the OS picks it; released for the server that takes it next). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Debian's Prometheus server on its own port and storage, scraping `target` every second. */
function startPrometheus(port: number, target: string): ChildProcess & { output: () => string } {
  const config = join(dir, 'prometheus.yml');
  const yaml = ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: driftline'];
  yaml.push('    static_configs:');
  writeFileSync(config, [...yaml, `      - targets: ['${target}']`, ''].join('\n'));
  const tsdb = join(dir, 'tsdb');
  const args = [`--config.file=${config}`, `--storage.tsdb.path=${tsdb}`, `--web.listen-address=127.0.0.1:${port}`];
  const child = spawn('prometheus', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  children.push(child);
  return Object.assign(child, { output: () => output });
}

/** Sends NAB readings to the pipeline's input topic, 30 every 100 ms, until `stop` (the file again when it ends). */
async function produceUntil(topic: string, stop: AbortSignal): Promise<void> {
  const messages: Message[] = [];
  const file = dataFile('events', 'nab', 'data', 'realKnownCause', 'nyc_taxi.csv');
  for await (const batch of readEventFile(file)) messages.push(...batch);
  const transport = testKafka();
  try {
    await transport.ensureTopic(topic, eventsPipeline.partitions!);
    const producer = await transport.producer();
    for (let i = 0; !stop.aborted; i = (i + 30) % messages.length) {
      await producer.send(topic, messages.slice(i, i + 30));
      await sleep(100);
    }
    await producer.close();
  } finally {
    await transport.close();
  }
}

/** The first value of an instant PromQL query over Prometheus' HTTP API; null while it has none (or is starting). */
async function query(port: number, promql: string): Promise<number | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; data?: { result: { value: [number, string] }[] } };
    const first = body.data?.result[0];
    return first ? Number(first.value[1]) : null;
  } catch {
    return null;
  }
}

describe('Prometheus scrapes a running pipeline', () => {
  it(
    'the rate of records processed, queried over PromQL, is positive while Kafka input flows',
    async () => {
      if (prometheusFound.status !== 0) {
        const why = prometheusFound.error?.message ?? prometheusFound.stderr;
        throw new Error(`the prometheus server is not installed (${why}): run bash scripts/services.sh up`);
      }
      const [prometheusPort, metricsPort] = [await freePort(), await freePort()];
      const prometheus = startPrometheus(prometheusPort, `127.0.0.1:${metricsPort}`);
      // Records keep coming while the pipeline runs, so the rate Prometheus computes stays above zero.
      const stopProducing = new AbortController();
      const producing = produceUntil(`${env.DRIFTLINE_TOPIC_PREFIX}events`, stopProducing.signal);
      producing.catch(() => {}); // a failure is thrown where it is awaited, below
      const run = driftline(['run', 'events', '--metrics-port', String(metricsPort)], env);
      children.push(run);

      const deadline = Date.now() + TIMEOUT_MS;
      const running = () => Date.now() < deadline && run.exitCode === null && prometheus.exitCode === null;
      /** Polls a PromQL query until it is positive (or the run, Prometheus or the patience ends); its last value. */
      const positive = async (promql: string) => {
        let value = await query(prometheusPort, promql);
        while (!(value !== null && value > 0) && running()) {
          await sleep(500);
          value = await query(prometheusPort, promql);
        }
        return value;
      };
      // Over 10 s: on a loaded machine a scrape can miss its 1 s timeout, and rate needs two samples in the range.
      const rate = await positive(
        'sum(rate(driftline_records_processed_total{job="driftline",pipeline="events"}[10s]))',
      );
      // Rows the ClickHouse sink stored, scraped too.
      const rows = await positive('sum(driftline_sink_rows_total{job="driftline",pipeline="events",table="events"})');
      stopProducing.abort();
      run.kill('SIGTERM');
      const code = await exitOf(run);
      prometheus.kill('SIGTERM');
      await exitOf(prometheus);
      await producing;

      const context = `driftline:\n${run.output()}\nprometheus:\n${prometheus.output().slice(-3000)}`;
      expect(rate, context).toBeGreaterThan(0);
      expect(rows, context).toBeGreaterThan(0);
      expect(code, context).toBe(0);
    },
    TIMEOUT_MS + 30_000,
  );
});
