import { configDefaults, defineConfig } from 'vitest/config';
import SharedModelsSequencer from './test/sequencer.ts';

/**
 * Test files that need no service and share nothing with other files (own temporary directories, in-memory or
 * embedded transports, no timing assertions), and that keep a core busy: they run two at a time, after the others
 * (the bench's figures are not asserted, so sharing the machine changes nothing it checks). A file not listed here
 * runs alone, so listing one is a promise that it is safe beside any other of this list.
 */
const SELF_CONTAINED = [
  'test/demo/demo.test.ts',
  'test/demo/fixtures.test.ts',
  'models/frames/frames-model.test.ts',
  'models/postings/postings-model.test.ts',
  'models/continual/event-time-training.test.ts',
  'operators/compare/compare-models.test.ts',
  'operators/uncertainty/uncertainty-sample.test.ts',
  'operators/uncertainty/near-duplicate.test.ts',
  'operators/drift/drift-window.test.ts',
  'test/replay/postings-2013-2026.test.ts',
  'test/replay/postings-training-replay.test.ts',
  'test/replay/files-replay.test.ts',
  'test/bench/tradeoff-bench.test.ts',
];

/** What both projects share. */
const common = {
  exclude: [...configDefaults.exclude, '**/node_modules/**', '**/.services/**'],
  // Child processes rather than worker threads: native addons (onnxruntime-node, duckdb) and
  // clean process.env per file.
  pool: 'forks' as const,
  testTimeout: 120_000,
  hookTimeout: 180_000,
};

export default defineConfig({
  test: {
    // Starts (or reuses) Kafka + ClickHouse via scripts/services.sh; sets KAFKA_BROKERS / CLICKHOUSE_URL.
    // Then a per-run cache directory for the trained models test files share (test/shared-models.ts).
    globalSetup: ['test/global-setup.ts', 'test/shared-models-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Trains the shared models in the background while the first files run; the files using the frame CNN go last.
    sequence: { sequencer: SharedModelsSequencer },
    projects: [
      {
        test: {
          ...common,
          name: 'services',
          include: ['**/*.test.ts'],
          exclude: [...common.exclude, ...SELF_CONTAINED],
          // Integration tests share one broker and the machine has 2 cores: one test file at a time. First, so that
          // the background training (test/sequencer.ts) overlaps files that mostly wait.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...common,
          name: 'self-contained',
          include: SELF_CONTAINED,
          // Two at a time, one per core, once the services files are done.
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
