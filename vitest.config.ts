import { configDefaults, defineConfig } from 'vitest/config';
import SharedModelsSequencer from './test/sequencer.ts';

/**
 * Test files that stop, restart or reconfigure a shared service (Kafka, ClickHouse): nothing else may run beside
 * them. They run first, one at a time, while the shared models train in the background (test/sequencer.ts).
 */
const EXCLUSIVE = [
  'test/faults/broker-restart.test.ts',
  'test/e2e/clickhouse-outage.test.ts',
  'test/faults/secrets.test.ts',
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
          name: 'exclusive',
          include: EXCLUSIVE,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...common,
          // Every other file: two at a time, one per core. They share the broker and ClickHouse through names of
          // their own (uniqueName(), per-run databases and topic prefixes) and assert no timings, so a neighbour
          // changes how long they take, never what they check. Most of them mostly wait on a service or a child
          // process, so the two lanes also leave room for the background training.
          name: 'side-by-side',
          include: ['**/*.test.ts'],
          exclude: [...common.exclude, ...EXCLUSIVE],
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
