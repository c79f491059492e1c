import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { fillUp, mountTmpfs, unmountTmpfs } from './tmpfs.ts';

// The embedded warehouse file under a crash or a full disk while it is created (issue 16): DuckDB cannot open a
// 0-byte or half-written file, and earlier versions left one behind that failed every later run.

const root = mkdtempSync(join(tmpdir(), 'driftline-warehouse-file-'));
const disk = join(root, 'disk');
mkdirSync(disk);
const skipReason = mountTmpfs(disk, '1m');
if (skipReason) process.stderr.write(`test/faults/warehouse-file: ${skipReason}\n`);
afterAll(() => {
  if (!skipReason) unmountTmpfs(disk);
  rmSync(root, { recursive: true, force: true });
});

async function eventCount(home: string): Promise<number> {
  const warehouse = await openWarehouse({ home, clickhouseUrl: undefined });
  try {
    await warehouse.ensureTables(['events']);
    const [row] = await warehouse.query('SELECT count(*) AS n FROM events');
    return Number(row!.n);
  } finally {
    await warehouse.close();
  }
}

describe('embedded warehouse file', () => {
  it('recreates a warehouse.duckdb left empty or half-written (shorter than its headers), saying so', async () => {
    for (const size of [0, 8192]) {
      const home = join(root, `left-${size}`);
      mkdirSync(home);
      writeFileSync(join(home, 'warehouse.duckdb'), Buffer.alloc(size));
      const stderr = vi.spyOn(process.stderr, 'write');
      try {
        expect(await eventCount(home)).toBe(0);
        const lines = stderr.mock.calls.map(([line]) => String(line)).filter((line) => line.startsWith('warehouse:'));
        expect(lines).toEqual([
          `warehouse: ${join(home, 'warehouse.duckdb')} was left incomplete (${size} bytes, by a crash or a full ` +
            `disk while it was created): creating it again\n`,
        ]);
      } finally {
        stderr.mockRestore();
      }
      expect(statSync(join(home, 'warehouse.duckdb')).size).toBeGreaterThanOrEqual(12 * 1024);
    }
  });

  it.skipIf(skipReason !== null)(
    'on a full disk leaves no warehouse.duckdb behind, and creates it once there is space',
    async () => {
      const filler = join(disk, 'filler');
      fillUp(filler);
      await expect(eventCount(disk)).rejects.toThrow(
        `warehouse: no space left under ${disk} to create ${join(disk, 'warehouse.duckdb')}: free space and run again`,
      );
      expect(readdirSync(disk)).toEqual(['filler']); // neither the file nor its temporary

      unlinkSync(filler);
      expect(await eventCount(disk)).toBe(0);
      expect(existsSync(join(disk, 'warehouse.duckdb'))).toBe(true);
      expect(readdirSync(disk).filter((name) => name.includes('.creating-'))).toEqual([]);
    },
  );
});
