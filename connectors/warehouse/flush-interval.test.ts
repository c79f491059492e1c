import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { openWarehouse } from './warehouse.ts';

describe('DRIFTLINE_WAREHOUSE_FLUSH_MS', () => {
  it("sets how long every warehouse sink holds rows, on DuckDB and ClickHouse; a sink's own option wins", async () => {
    const home = mkdtempSync(join(tmpdir(), 'driftline-flush-'));
    for (const url of ['', inject('CLICKHOUSE_URL')]) {
      const settings = loadSettings({ DRIFTLINE_HOME: home, CLICKHOUSE_URL: url, DRIFTLINE_WAREHOUSE_FLUSH_MS: '200' });
      const warehouse = await openWarehouse(settings);
      try {
        expect(warehouse.sink('events', (r) => r.value as Record<string, unknown>).maxWaitMs).toBe(200);
        expect(warehouse.sink('events', (r) => r.value as Record<string, unknown>, { maxWaitMs: 50 }).maxWaitMs).toBe(
          50,
        );
      } finally {
        await warehouse.close();
      }
      const defaults = await openWarehouse(loadSettings({ DRIFTLINE_HOME: home, CLICKHOUSE_URL: url }));
      expect(defaults.sink('events', (r) => r.value as Record<string, unknown>).maxWaitMs).toBe(1_000);
      await defaults.close();
    }
  });

  it('refuses a value that is not a positive number', () => {
    expect(() => loadSettings({ DRIFTLINE_WAREHOUSE_FLUSH_MS: 'soon' })).toThrow(
      /DRIFTLINE_WAREHOUSE_FLUSH_MS must be a positive number/,
    );
  });
});
