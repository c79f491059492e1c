import type { OptionRules } from '../../config/pipeline-options.ts';
import type { Settings } from '../../config/settings.ts';
import type { Message, Transport } from '../kernel/transport/transport.ts';
import type { Warehouse } from '../../connectors/warehouse/warehouse.ts';
import type { ModelRegistry } from '../../models/registry/registry.ts';
import type { SchemaName } from '../../schemas/registry.ts';
import type { Pipeline } from '../kernel/pipeline.ts';
import type { Source } from '../kernel/source.ts';

/**
 * What a pipeline needs from the outside world, handed to it by the command that runs it; everything else is in its
 * definition. A pipeline opens nothing itself: no registry, no warehouse, no environment variable.
 */
export interface PipelineContext<O = unknown> {
  transport: Transport;
  /** ClickHouse when CLICKHOUSE_URL is set, else the embedded DuckDB file. */
  warehouse: Warehouse;
  /** The model registry (DRIFTLINE_MODELS_MANIFEST, artifacts under DRIFTLINE_HOME). */
  models: ModelRegistry;
  settings: Settings;
  /** This pipeline's options (from --config), checked against its `options` rules (registry.ts `pipelineOptions`). */
  options: O;
  /**
   * This run's id (live or replay). Result tables (drift, comparisons, …) carry it, so a replay's rows sit beside a
   * live run's and can be compared. Default: a fresh id per build.
   */
  runId?: string;
  /** A replay (recorded input, as fast as possible) rather than a live run: Model B then trains in event time. */
  replay?: boolean;
}

/** The real name of a pipeline's topic, with the configured prefix. */
export const topicName = (context: Pick<PipelineContext, 'settings'>, topic: string) =>
  `${context.settings.topicPrefix}${topic}`;

/** How input files are read, whatever the pipeline's options: from command-line flags. */
export interface FileReadOptions {
  /** `--csv-map`: columns of CSV postings exports that are not Glassdoor's (connectors/postings/csv-columns.ts). */
  csvMap?: string;
}

/** A runnable pipeline with options `O`: `driftline run|produce|replay <name>` all go through this. */
export interface PipelineDefinition<O = unknown> {
  name: string;
  description: string;
  /** The topic `produce` publishes to and `run` reads from (unless --input is given). */
  inputTopic: string;
  /** More topics `run` reads besides the input topic (e.g. `labels`); records keep `position.topic`. */
  extraTopics?: string[];
  partitions: number;
  /** When the input topic carries Avro records of this schema: framed for the Schema Registry when one is set. */
  valueSchema?: SchemaName;
  /** A check for every option `--config` may give this pipeline (documented in streams/pipelines/README.md). */
  options: OptionRules<O>;
  /** Which files under an input path this pipeline reads. */
  acceptsFile(path: string): boolean;
  /**
   * Input files as messages for the input topic, read together (so duplicates across files can be dropped).
   * `produceOptions` are the pipeline's --config options when `driftline produce` publishes the files, for options
   * of the source itself (frames: the camera `drift`); `run --input` and `replay --input` pass none, as the pipeline
   * applies its options itself.
   */
  read(files: string[], produceOptions?: O, fileOptions?: FileReadOptions): AsyncIterable<Message[]>;
  build(source: Source<Buffer>, context: PipelineContext<O>): Pipeline;
}
