import { commandSettings } from '../config/settings.ts';
import { fileSource } from '../connectors/files/file-source.ts';
import { openTransport } from '../connectors/open-transport.ts';
import { topicSource } from '../streams/kernel/transport/topic-source.ts';
import { openWarehouse } from '../connectors/warehouse/warehouse.ts';
import { ModelRegistry } from '../models/registry/registry.ts';
import { formatMetricsTable } from '../streams/kernel/metrics.ts';
import { lateWarning } from './late-warning.ts';
import { topicName } from '../streams/pipelines/pipeline-definition.ts';
import { pipelineNamed, pipelineOptions } from '../streams/pipelines/registry.ts';
import { liveRunId, recordRun, recordRunMetrics, type RunContext } from '../streams/pipelines/run-metrics.ts';
import { type RunResult, runPipeline } from '../streams/kernel/runner.ts';
import { inputFiles, inputMisfit } from './input-fit.ts';
import { logEnds } from './log-ends.ts';
import { pipelineProgress } from './progress.ts';
import { type MetricsOptions, startMetricsExporter } from './metrics-exporter.ts';

export interface RunCommandOptions extends MetricsOptions {
  input?: string;
  untilIdle?: boolean;
  config?: string;
  group?: string;
  quiet?: boolean;
  /** What the `pipeline_runs` row says this was: `bench` for benchmarks. Default `run`. */
  mode?: RunContext['mode'];
  /** Input is complete once this fires (a benchmark's producer finished): stop when caught up, as --until-idle. */
  inputComplete?: AbortSignal;
  /** Largest tolerated share of dead letters (input-fit.ts); default: fail only when every record is one. */
  maxDeadLetterRatio?: number;
  /** `--csv-map`: the columns of CSV postings exports that are not Glassdoor's (connectors/postings/csv-columns.ts). */
  csvMap?: string;
  /** Output topics written in Kafka transactions with the input offsets (connectors/kafka/transaction-outbox.ts). */
  exactlyOnce?: boolean;
}

/** `driftline run`: reads the pipeline's topic (or --input files), stops on SIGINT/SIGTERM after draining. */
export async function runCommand(name: string, options: RunCommandOptions): Promise<RunResult> {
  const settings = commandSettings(options.config);
  const definition = pipelineNamed(name);
  const pipelineConfig = pipelineOptions(definition, settings); // checked before anything is opened
  const inputTopic = topicName({ settings }, definition.inputTopic);
  const files = options.input ? inputFiles(definition, options.input) : [];
  if (options.exactlyOnce && options.input)
    throw new Error('--exactly-once reads a Kafka topic; it does not apply to --input files');
  const transport = openTransport(settings, { exactlyOnce: options.exactlyOnce });
  const metrics = await startMetricsExporter(name, settings, options);
  const opened = await openWarehouse(settings);
  const warehouse = metrics ? metrics.observe(opened) : opened;
  await warehouse.ensureTables();
  const topics = [inputTopic, ...(definition.extraTopics ?? []).map((t) => topicName({ settings }, t))];
  const group = options.group ?? `${settings.topicPrefix}driftline-${name}`;
  const source = options.input
    ? fileSource(files, (chosen) => definition.read(chosen, undefined, { csvMap: options.csvMap }))
    : topicSource(transport, { topics, group, partitions: definition.partitions });
  // One id for the live results across restarts: a window redelivered after a restart replaces its rows.
  const runId = liveRunId(group);
  const pipeline = definition.build(source, {
    transport,
    warehouse,
    models: ModelRegistry.fromSettings(settings),
    settings,
    options: pipelineConfig,
    runId,
  });

  const stop = new AbortController();
  const progress = pipelineProgress(name, { plainEveryMs: settings.progressEveryMs });
  const onSignal = (signal: string) => {
    if (!options.quiet)
      process.stderr.write(
        `\n${signal}: stopping after ${progress.line() ?? 'no records'} — draining in-flight records, flushing ` +
          `sinks, committing…\n`,
      );
    progress.stop();
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (!options.quiet)
      process.stderr.write(
        `running ${name} ` +
          `on ${options.input ? `files under ${options.input}` : `${transport.kind} topic ${inputTopic}`}\n`,
      );
    const result = await runPipeline(pipeline, {
      untilIdle: options.untilIdle || Boolean(options.input),
      signal: stop.signal,
      inputComplete: options.inputComplete,
      logEnds: options.input ? undefined : logEnds(transport, topics),
      onStart: (live) => {
        metrics?.onStart(live);
        if (!options.quiet) progress.onStart(live);
      },
    });
    progress.stop();
    await recordRunMetrics(warehouse, runId, name, result.metrics);
    await recordRun(
      warehouse,
      {
        runId,
        pipeline: name,
        mode: options.mode ?? 'run',
        transport: options.input ? 'files' : transport.kind,
        warehouse: warehouse.kind,
      },
      result,
    );
    if (!options.quiet)
      process.stderr.write(
        `\n${formatMetricsTable(result.metrics)}\n${name}: run ${runId} done ` +
          `in ${(result.durationMs / 1000).toFixed(1)} s, ${result.deadLetters} dead ` +
          `letters; ${formatRunFigures(result)}; results in ${warehouse.kind} (${warehouse.location})\n`,
      );
    const late = lateWarning(name, result.metrics);
    if (late && !options.quiet) process.stderr.write(`${late}\n`);
    const misfit = inputMisfit(name, result, options);
    if (misfit) throw new Error(misfit);
    return result;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await metrics?.close();
    await warehouse.close();
    await transport.close();
  }
}

/** Records/s, end-to-end latency and the largest lag, as printed when a run or replay ends. */
export function formatRunFigures(result: RunResult): string {
  const perSecond = result.recordsIn / Math.max(result.durationMs / 1000, 1e-3);
  const e2e = result.endToEnd
    ? `end-to-end p50 ${result.endToEnd.p50Ms.toFixed(0)} ms, p99 ${result.endToEnd.p99Ms.toFixed(0)} ms`
    : 'no end-to-end latency (nothing acknowledged)';
  const lag = result.maxConsumerLag === null ? '' : `, max consumer lag ${result.maxConsumerLag}`;
  return `${result.recordsIn} records (${Math.round(perSecond)} records/s), ${e2e}${lag}`;
}
