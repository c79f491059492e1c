// The order of a run's test files, and the background training of the models they share (test/shared-models.ts).
//
// Files run one at a time and most of them spend their time waiting on Kafka, ClickHouse or child processes, so the
// second core is mostly idle: the shared models (Model A, and the frame CNN, ~3 minutes of CPU) are trained there,
// in one background process at a lower priority (nice 10), while the first files run. The files that use the frame
// CNN go last, by when it is stored; a file that needs a model still being trained waits for it
// (test/shared-models.ts), so the order only decides how long anyone waits, never what is tested.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { pendingFile } from './shared-models-pending.ts';

/** Kinds trained ahead, in this order: Model A first (seconds), so the files that need it early barely wait. */
const TRAINED_AHEAD = ['postings', 'frames'];
/** Files using these kinds run last: their training takes minutes. */
const SLOW_KINDS = ['frames'];
/**
 * The files that take minutes, longest first: they start first in their group, so the two lanes end together rather
 * than one of them waiting on a long file that started last (measured on 2 cores; the order changes no result).
 */
const LONG_FIRST = [
  'test/demo/demo.test.ts',
  'test/report/report-site.test.ts',
  'test/replay/postings-2013-2026.test.ts',
  'test/replay/postings-training-replay.test.ts',
  'test/bench/tradeoff-bench.test.ts',
  'test/e2e/readme-usage.test.ts',
  'test/e2e/postings-kafka-clickhouse.test.ts',
];

/**
 * The model kinds a test file takes from test/shared-models.ts (`trainedOnce('frames', …)`, `registerTrainedOnce(…)`).
 */
function sharedModelKinds(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/\b(?:registerTrainedOnce|trainedOnce)\(\s*'([\w-]+)'/g)].map(
    (m) => m[1]!,
  );
}

export default class SharedModelsSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const kinds = new Map(sorted.map((spec) => [spec, sharedModelKinds(spec.moduleId)]));
    // Ahead only when other files can run meanwhile: a run of only the files that need a model trains it in-process.
    const uses = (kind: string) => (spec: TestSpecification) => kinds.get(spec)!.includes(kind);
    const ahead = TRAINED_AHEAD.filter((kind) => sorted.some(uses(kind)) && !sorted.every(uses(kind)));
    if (ahead.length > 0) startTrainingAhead(ahead);
    const late = (spec: TestSpecification) => kinds.get(spec)!.some((kind) => SLOW_KINDS.includes(kind));
    const rank = (spec: TestSpecification) => {
      const long = LONG_FIRST.findIndex((file) => spec.moduleId.endsWith(file));
      return late(spec) ? LONG_FIRST.length + 1 : long >= 0 ? long : LONG_FIRST.length;
    };
    // Array.prototype.sort is stable: within a rank, the base sequencer's order stays.
    return sorted
      .map((spec) => ({ spec, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank)
      .map(({ spec }) => spec);
  }
}

/** `node --import tsx test/shared-models-pretrain.ts <kinds>`, logging to the run's cache directory. */
function startTrainingAhead(kinds: string[]): void {
  const cache = process.env.DRIFTLINE_TEST_MODEL_CACHE;
  if (!cache) return; // test/shared-models-setup.ts sets it; without it nothing is shared
  const root = join(import.meta.dirname, '..');
  const log = openSync(join(cache, 'pretrain.log'), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/shared-models-pretrain.ts', ...kinds], {
    cwd: root,
    stdio: ['ignore', log, log],
  });
  child.unref();
  child.on('error', () => {}); // could not start: every file then trains what it needs itself
  if (child.pid === undefined) return;
  // Below the test files' priority: it takes the core they leave idle, and never the CPU time a test measures.
  setPriority(child.pid, 10);
  // Written here, before any test file starts, so that none of them misses the training under way.
  for (const kind of kinds) writeFileSync(pendingFile(cache, kind), String(child.pid));
}
