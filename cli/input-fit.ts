import { listFiles } from '../connectors/files/list-files.ts';
import type { PipelineDefinition } from '../streams/pipelines/pipeline-definition.ts';
import type { RunResult } from '../streams/kernel/runner.ts';

/** What each pipeline reads from files, for the error when the input given does not fit. */
const EXPECTED_INPUT: Record<string, string> = {
  events:
    '.csv files with a `timestamp,value` header (the NAB layout), or .jsonl/.json of {"key", "timestamp", "value"} ' +
    '(JSON lines or one JSON array)',
  postings:
    'Glassdoor .csv exports, Hacker News "Who is hiring?" months (YYYY-MM.json), HN 2026 runs (<date>/raw.json) ' +
    'or Bright Data LinkedIn .json/.jsonl',
  frames: 'images (.jpg, .jpeg, .png) or videos (.mp4, .avi, .mkv, .mov, .webm, .mjpeg)',
  labels: '.jsonl/.json labels or a Label Studio JSON export (connectors/labels/README.md)',
};

export const expectedInput = (pipeline: string) => EXPECTED_INPUT[pipeline] ?? 'the files its definition accepts';

export interface InputFitOptions {
  /** The --input path, when the run read files (a topic may be empty for good reasons; a file given may not). */
  input?: string;
  /** Largest tolerated share of dead letters per record read; default: fail only when every record was one. */
  maxDeadLetterRatio?: number;
}

/**
 * Why a finished run's input did not fit its pipeline, or undefined when it did: no record recognised in the
 * --input files, every record dead-lettered, or more dead letters than --max-dead-letter-ratio allows.
 */
export function inputMisfit(
  pipeline: string,
  result: Pick<RunResult, 'recordsIn' | 'deadLetters'>,
  options: InputFitOptions,
): string | undefined {
  const expected = `${pipeline} reads ${expectedInput(pipeline)}`;
  const { recordsIn, deadLetters } = result;
  if (recordsIn === 0) {
    return options.input ? `no ${pipeline} record recognised under ${options.input}: ${expected}` : undefined;
  }
  const ratio = deadLetters / recordsIn;
  const percent = (100 * Math.min(ratio, 1)).toFixed(1);
  const share = `${deadLetters} dead letters for ${recordsIn} records read (${percent} %)`;
  const where =
    'the reasons are in the dead_letters table ' + "(driftline sql 'SELECT stage, error FROM dead_letters LIMIT 5')";
  if (options.maxDeadLetterRatio === undefined) {
    return deadLetters < recordsIn ? undefined : `every record was dead-lettered: ${share}; ${expected}; ${where}`;
  }
  if (ratio <= options.maxDeadLetterRatio) return undefined;
  return `${share}, more than --max-dead-letter-ratio ${options.maxDeadLetterRatio}; ${expected}; ${where}`;
}

/** The files under --input the pipeline reads; none is an error naming what it expects. */
export function inputFiles(definition: Pick<PipelineDefinition, 'name' | 'acceptsFile'>, input: string): string[] {
  const files = listFiles([input], definition.acceptsFile);
  if (files.length === 0) {
    const { name } = definition;
    throw new Error(`no ${name} input file under ${input}: ${name} reads ${expectedInput(name)}`);
  }
  return files;
}
