import { join } from 'node:path';
import { commandSettings } from '../config/settings.ts';
import { openTransport } from '../connectors/open-transport.ts';
import { inEventTimeOrder } from '../connectors/replay/event-time-order.ts';
import { readRecordedFiles } from '../connectors/replay/recorded-files.ts';
import { readRecordedTopics } from '../connectors/replay/recorded-topic.ts';
import { replayDir, replayLogDir, replayOutputs } from '../connectors/replay/replay-outputs.ts';
import { replaySource } from '../connectors/replay/replay-source.ts';
import { describeRange, timeRange } from '../connectors/replay/time-range.ts';
import type { Transport } from '../streams/kernel/transport/transport.ts';
import { openWarehouse } from '../connectors/warehouse/warehouse.ts';
import { ModelRegistry } from '../models/registry/registry.ts';
import { formatMetricsTable } from '../streams/kernel/metrics.ts';
import { lateWarning } from './late-warning.ts';
import { topicName } from '../streams/pipelines/pipeline-definition.ts';
import { pipelineNamed, pipelineOptions } from '../streams/pipelines/registry.ts';
import { newRunId, recordRun, recordRunMetrics } from '../streams/pipelines/run-metrics.ts';
import type { LiveRun } from '../streams/kernel/live-run.ts';
import { type RunResult, runPipeline } from '../streams/kernel/runner.ts';
import { inputFiles, inputMisfit } from './input-fit.ts';
import { type MetricsOptions, startMetricsExporter } from './metrics-exporter.ts';
import { pipelineProgress } from './progress.ts';
import { formatRunFigures } from './run.ts';

export interface ReplayCommandOptions extends MetricsOptions {
  from?: string;
  to?: string;
  input?: string;
  topic?: string;
  runId?: string;
  config?: string;
  /** MB of input sorted in memory before sorted runs are spilled to disk. */
  sortMemory?: number;
  quiet?: boolean;
  /** Largest tolerated share of dead letters (input-fit.ts); default: fail only when every record is one. */
  maxDeadLetterRatio?: number;
  /** `--csv-map`: the columns of CSV postings exports that are not Glassdoor's (connectors/postings/csv-columns.ts). */
  csvMap?: string;
}

export interface ReplayResult extends RunResult {
  runId: string;
  /** Input records replayed (those in the time range). */
  records: number;
  /** The embedded log holding the replay's side outputs. */
  outputs: string;
}

/**
 * `driftline replay`: the recorded input topic (or --input files) within --from/--to, in event-time order, through the
 * same pipeline definition as `run`, as fast as possible, into the warehouse under a replay run id. Side-output
 * topics go to the replay's own embedded log (see replay-outputs.ts).
 */
export async function replayCommand(name: string, options: ReplayCommandOptions): Promise<ReplayResult> {
  const settings = commandSettings(options.config);
  const definition = pipelineNamed(name);
  const pipelineConfig = pipelineOptions(definition, settings); // checked before anything is opened
  const range = timeRange(options.from, options.to);
  const runId = options.runId ?? `replay-${newRunId()}`;
  // The topics `run` reads: the input topic (or --topic) and the definition's extra topics (e.g. labels).
  const topics = [
    ...new Set([
      options.topic ?? topicName({ settings }, definition.inputTopic),
      ...(definition.extraTopics ?? []).map((t) => topicName({ settings }, t)),
    ]),
  ];

  const recorded: Transport | undefined = options.input ? undefined : openTransport(settings);
  const input = options.input
    ? readRecordedFiles(
        (files) => definition.read(files, undefined, { csvMap: options.csvMap }),
        inputFiles(definition, options.input),
        range,
      )
    : readRecordedTopics(recorded!, topics, range, `${settings.topicPrefix}driftline-replay-${runId}`);
  const ordered = inEventTimeOrder(input, {
    spillDir: join(replayDir(settings, runId), 'spill'),
    maxBufferedBytes: options.sortMemory === undefined ? undefined : options.sortMemory * 1024 * 1024,
  });
  // Named like the live source, so per-stage metrics of a run and of its replay line up.
  const source = replaySource(options.input ? 'source:files' : `source:${topics.join('+')}`, ordered);

  const outputs = replayOutputs(settings, runId);
  const metrics = await startMetricsExporter(name, settings, options);
  const opened = await openWarehouse(settings);
  const warehouse = metrics ? metrics.observe(opened) : opened;
  const stop = new AbortController();
  const progress = pipelineProgress(`replay ${name}`, { plainEveryMs: settings.progressEveryMs });
  const onSignal = (signal: string) => {
    if (!options.quiet)
      process.stderr.write(`\n${signal}: stopping after ${progress.line() ?? 'no records'}; draining…\n`);
    progress.stop();
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await warehouse.ensureTables();
    const pipeline = definition.build(source, {
      transport: outputs,
      warehouse,
      models: ModelRegistry.fromSettings(settings),
      settings,
      options: pipelineConfig,
      runId,
      replay: true,
    });
    const what = options.input ? `files under ${options.input}` : `${recorded!.kind} topics ${topics.join(', ')}`;
    if (!options.quiet)
      process.stderr.write(`replaying ${name} on ${what}, ${describeRange(range)}, as run ${runId}\n`);
    // Latency from the read time: recorded timestamps and headers are from the day the input was recorded.
    const onStart = (live: LiveRun) => {
      metrics?.onStart(live);
      if (!options.quiet) progress.onStart(live);
    };
    const result = await runPipeline(pipeline, { untilIdle: true, signal: stop.signal, latencyStart: 'read', onStart });
    progress.stop();
    await recordRunMetrics(warehouse, runId, name, result.metrics);
    await recordRun(
      warehouse,
      {
        runId,
        pipeline: name,
        mode: 'replay',
        transport: options.input ? 'files' : recorded!.kind,
        warehouse: warehouse.kind,
      },
      result,
    );
    const records = result.recordsIn;
    if (!options.quiet) {
      process.stderr.write(
        `\n${formatMetricsTable(result.metrics)}\n${name}: replay run ${runId} ` +
          `done${stop.signal.aborted ? ' (stopped early: not the whole range)' : ''} ` +
          `in ${(result.durationMs / 1000).toFixed(1)} s: ` +
          `${formatRunFigures(result)}, ${result.deadLetters} dead letters; results in ${warehouse.kind} ` +
          `(${warehouse.location}), ` +
          `side outputs in ${replayLogDir(settings, runId)}\n`,
      );
      const late = lateWarning(name, result.metrics);
      if (late) process.stderr.write(`${late}\n`);
    }
    const misfit = inputMisfit(name, result, options);
    if (misfit) throw new Error(misfit);
    return { ...result, runId, records, outputs: replayLogDir(settings, runId) };
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await source.close();
    await metrics?.close();
    await warehouse.close();
    await outputs.close();
    await recorded?.close();
  }
}
