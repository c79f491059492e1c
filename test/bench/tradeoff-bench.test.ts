/**
 * `driftline bench --quick` as a real process on embedded defaults, over real models in an isolated registry:
 * Model A (postings) trained on the real data (once per test run: test/shared-models.ts) with its int8 and fp16
 * variants (`driftline models quantize`). (The frame CNN takes ~2 minutes to
 * train; it is covered by the hand-run figures in bench/tradeoff/README.md, not here.)
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BenchFile } from '../../bench/tradeoff/store-results.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataDir } from '../data-dir.ts';
import { driftline, driftlineOk, exitOf } from '../e2e/cli.ts';
import { registerTrainedOnce } from '../shared-models.ts';

const work = mkdtempSync(join(tmpdir(), 'driftline-bench-'));
const manifest = join(work, 'models.json');
const home = join(work, 'home');
writeFileSync(manifest, '{"models":[]}');
const env = {
  DRIFTLINE_HOME: home,
  DRIFTLINE_MODELS_MANIFEST: manifest,
  KAFKA_BROKERS: '',
  CLICKHOUSE_URL: '',
  DRIFTLINE_BENCH_WATTS_PER_CORE: '',
};

describe('driftline bench --quick', () => {
  beforeAll(async () => {
    await registerTrainedOnce('postings', dataDir(), { manifestPath: manifest, home }); // v1 fp32
    await driftlineOk(['models', 'quantize', 'postings-a', '--version', 'v1', '--precision', 'int8'], env); // v2
    await driftlineOk(['models', 'quantize', 'postings-a', '--version', 'v1', '--precision', 'fp16'], env); // v3
  }, 600_000); // the first file of a run to need Model A trains it

  it('measures each variant on both backends in all 3 scenarios, into a warehouse and JSON that agree', async () => {
    const out = join(work, 'bench.json');
    const printed = await driftlineOk(['bench', '--quick', '--out', out], env);
    const file = JSON.parse(readFileSync(out, 'utf8')) as BenchFile;
    const { run, results } = file;
    expect(printed).toContain(run.run_id);
    expect(printed).toMatch(/postings-a@v2\s+int8\s+onnxruntime/);

    // the warehouse holds exactly the file's rows
    const warehouse = await openWarehouse({ home });
    const [stored, runs] = await Promise.all([
      warehouse.query(`SELECT * FROM bench_results WHERE run_id = '${run.run_id}' ORDER BY id`),
      warehouse.query(`SELECT * FROM bench_runs WHERE run_id = '${run.run_id}'`),
    ]).finally(() => warehouse.close());
    const numbersAsNumbers = (row: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
    expect(stored.map(numbersAsNumbers)).toEqual([...results].sort((a, b) => a.id.localeCompare(b.id)));
    expect(runs.map(numbersAsNumbers)).toEqual([run]);
    expect(run).toMatchObject({ quick: 1, cores: expect.any(Number), node_version: process.version });
    expect(run.cpu_model).not.toBe('');
    expect(run.onnxruntime_version).toMatch(/^\d+\.\d+/);

    // every energy figure carries the run's method
    expect(['rapl', 'estimate']).toContain(run.energy_method);
    expect(run.watts_per_core === null).toBe(run.energy_method === 'rapl');
    for (const r of results) {
      expect(r.energy_method).toBe(run.energy_method);
      expect(r.energy_j_per_1k).toBeGreaterThan(0);
      expect(r.items_per_s).toBeGreaterThan(0);
      expect(r.p50_ms!).toBeLessThanOrEqual(r.p99_ms!);
      expect(r.peak_rss_mb).toBeGreaterThan(0);
    }

    // SingleStream, Offline and Server for each variant on each backend (ONNX Runtime with 1 and 2 threads)
    const scenarios = new Map<string, Set<string>>();
    for (const r of results) {
      const key = `${r.model_id}@${r.model_version} ${r.variant} ${r.backend} ${r.threads}`;
      scenarios.set(key, (scenarios.get(key) ?? new Set()).add(r.scenario));
    }
    expect([...scenarios.keys()].sort()).toEqual(
      ['v1 fp32', 'v2 int8', 'v3 fp16']
        .flatMap((v) => [
          `postings-a@${v} onnxruntime 1`,
          `postings-a@${v} onnxruntime 2`,
          `postings-a@${v} tfjs-wasm 1`,
        ])
        .sort(),
    );
    for (const found of scenarios.values()) expect([...found].sort()).toEqual(['Offline', 'Server', 'SingleStream']);
    expect(results.filter((r) => r.scenario === 'Offline').map((r) => r.batch_size)).toContain(128);

    // accuracy: ONNX Runtime rows carry exactly what `driftline models eval` prints; tfjs-wasm its own on the same rows
    const versions = ['v1', 'v2', 'v3'];
    const evaluations = await Promise.all(
      versions.map((v) => driftlineOk(['models', 'eval', 'postings-a', '--version', v], env)),
    );
    for (const [i, version] of versions.entries()) {
      const evaluated = evaluations[i]!;
      const [, accuracy, heldOutRows] = /accuracy ([\d.]+) on (\d+) held-out rows/.exec(evaluated)!;
      const rows = results.filter((r) => r.model_version === version);
      for (const r of rows.filter((x) => x.backend === 'onnxruntime')) expect(r.accuracy!.toFixed(4)).toBe(accuracy);
      for (const r of rows) expect(r.heldout_rows).toBe(Number(heldOutRows));
      const tfjs = rows.find((r) => r.backend === 'tfjs-wasm')!;
      expect(Math.abs(tfjs.accuracy! - Number(accuracy))).toBeLessThan(0.02);
    }
  }, 240_000);

  it('says how to register a model when there is none', async () => {
    const empty = join(work, 'empty.json');
    writeFileSync(empty, '{"models":[]}');
    const child = driftline(['bench', '--quick'], { ...env, DRIFTLINE_MODELS_MANIFEST: empty });
    expect(await exitOf(child)).toBe(1);
    expect(child.output()).toMatch(/no models registered .*driftline models train postings/);
  });
});
