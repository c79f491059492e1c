import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Starts (or reuses) Kafka + ClickHouse via scripts/services.sh; sets KAFKA_BROKERS / CLICKHOUSE_URL.
    // Then a per-run cache directory for the trained models test files share (test/shared-models.ts).
    globalSetup: ['test/global-setup.ts', 'test/shared-models-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    include: ['**/*.test.ts'],
    exclude: [...configDefaults.exclude, '**/node_modules/**', '**/.services/**'],
    // Child processes rather than worker threads: native addons (onnxruntime-node, duckdb) and
    // clean process.env per file.
    pool: 'forks',
    // Integration tests share one broker and the machine has 2 cores: one test file at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
