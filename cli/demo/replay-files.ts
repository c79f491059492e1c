import { join } from 'node:path';
import type { Settings } from '../../config/settings.ts';
import { inEventTimeOrder } from '../../connectors/replay/event-time-order.ts';
import { readRecordedFiles } from '../../connectors/replay/recorded-files.ts';
import { replayDir, replayOutputs } from '../../connectors/replay/replay-outputs.ts';
import { replaySource } from '../../connectors/replay/replay-source.ts';
import type { ConsumedMessage, Message } from '../../streams/kernel/transport/transport.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { parseOptions } from '../../config/pipeline-options.ts';
import { ModelRegistry } from '../../models/registry/registry.ts';
import type { StageSnapshot } from '../../streams/kernel/metrics.ts';
import type { PipelineDefinition } from '../../streams/pipelines/pipeline-definition.ts';
import { recordRun, recordRunMetrics } from '../../streams/pipelines/run-metrics.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';

export interface FilesReplay {
  definition: PipelineDefinition;
  files: string[];
  /** The pipeline's options (what `--config` would give it). */
  options: Record<string, unknown>;
  runId: string;
  settings: Settings;
  /** How the files become messages; default the definition's own reader (as `replay --input`). */
  read?: (files: string[]) => AsyncIterable<Message[]>;
  /** Running total of records handed to the pipeline. */
  onRecords?: (count: number) => void;
}

export interface FilesReplayResult {
  runId: string;
  records: number;
  durationMs: number;
  deadLetters: number;
  metrics: StageSnapshot[];
}

/**
 * `driftline replay <pipeline> --input <files>`, in process: the files as the pipeline reads them, sorted into
 * event-time order (connectors/replay), through the same definition, into the warehouse under `runId`, with side
 * outputs in the replay's own log, per-stage metrics in `pipeline_metrics` and the run's figures in `pipeline_runs`.
 * What it adds to the command: a reader of the caller's choice (the demo's frames come in a seeded order, not by file
 * name) and a record count for the progress display.
 */
export async function replayFiles(replay: FilesReplay): Promise<FilesReplayResult> {
  const { definition, settings, runId } = replay;
  const read = replay.read ?? ((files: string[]) => definition.read(files));
  const ordered = inEventTimeOrder(readRecordedFiles(read, replay.files, {}), {
    spillDir: join(replayDir(settings, runId), 'spill'),
  });
  const source = replaySource('source:files', counted(ordered, replay.onRecords));
  const outputs = replayOutputs(settings, runId);
  const warehouse = await openWarehouse(settings);
  try {
    await warehouse.ensureTables();
    const pipeline = definition.build(source, {
      transport: outputs,
      warehouse,
      models: ModelRegistry.fromSettings(settings),
      settings,
      options: parseOptions(definition.name, definition.options, replay.options),
      runId,
      replay: true,
    });
    // Latency from the read time, as `replay` measures it: the recorded times are from when the data was recorded.
    const result = await runPipeline(pipeline, { untilIdle: true, latencyStart: 'read' });
    await recordRunMetrics(warehouse, runId, definition.name, result.metrics);
    await recordRun(
      warehouse,
      { runId, pipeline: definition.name, mode: 'replay', transport: 'files', warehouse: warehouse.kind },
      result,
    );
    return {
      runId,
      records: result.recordsIn,
      durationMs: result.durationMs,
      deadLetters: result.deadLetters,
      metrics: result.metrics,
    };
  } finally {
    await source.close();
    await warehouse.close();
    await outputs.close();
  }
}

async function* counted(
  batches: AsyncIterable<ConsumedMessage[]>,
  onRecords?: (count: number) => void,
): AsyncGenerator<ConsumedMessage[]> {
  let count = 0;
  for await (const batch of batches) {
    count += batch.length;
    onRecords?.(count);
    yield batch;
  }
}
