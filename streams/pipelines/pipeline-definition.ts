import type { Settings } from '../../config/settings.ts';
import type { Message, Transport } from '../../connectors/transport.ts';
import type { Warehouse } from '../../connectors/warehouse/warehouse.ts';
import type { SchemaName } from '../../schemas/registry.ts';
import type { Pipeline } from '../pipeline.ts';
import type { Source } from '../source.ts';

/** What a pipeline needs from the outside world; everything else is in its definition. */
export interface PipelineContext {
  transport: Transport;
  /** ClickHouse when CLICKHOUSE_URL is set, else the embedded DuckDB file. */
  warehouse: Warehouse;
  settings: Settings;
  /** Overrides from --config for this pipeline. */
  options: Record<string, unknown>;
  /**
   * This run's id (live or replay). Result tables (drift, comparisons, …) carry it, so a replay's rows sit beside a
   * live run's and can be compared. Default: a fresh id per build.
   */
  runId?: string;
  /** A replay (recorded input, as fast as possible) rather than a live run: Model B then trains in event time. */
  replay?: boolean;
}

/** The real name of a pipeline's topic, with the configured prefix. */
export const topicName = (context: Pick<PipelineContext, 'settings'>, topic: string) => `${context.settings.topicPrefix}${topic}`;

/** A runnable pipeline: `driftline run|produce|replay <name>` all go through this. */
export interface PipelineDefinition {
  name: string;
  description: string;
  /** The topic `produce` publishes to and `run` reads from (unless --input is given). */
  inputTopic: string;
  /** More topics `run` reads besides the input topic (e.g. `labels`); records keep `position.topic`. */
  extraTopics?: string[];
  partitions: number;
  /** When the input topic carries Avro records of this schema: framed for the Schema Registry when one is set. */
  valueSchema?: SchemaName;
  /** Which files under an input path this pipeline reads. */
  acceptsFile(path: string): boolean;
  /**
   * Input files as messages for the input topic, read together (so duplicates across files can be dropped).
   * `produceOptions` are the pipeline's --config options when `driftline produce` publishes the files, for options
   * of the source itself (frames: the camera `drift`); `run --input` and `replay --input` pass none, as the pipeline
   * applies its options itself.
   */
  read(files: string[], produceOptions?: Record<string, unknown>): AsyncIterable<Message[]>;
  build(source: Source<Buffer>, context: PipelineContext): Pipeline;
}

export function numberOption(options: Record<string, unknown>, name: string, fallback: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`config option "${name}" must be a number, got ${JSON.stringify(value)}`);
  return value;
}
