import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODEL_KIND_NAMES, PIPELINE_NAMES } from '../../cli/command-names.ts';
import { modelKinds } from '../../models/kinds.ts';
import { pipelines } from '../../streams/pipelines/registry.ts';
import { TABLE_NAMES } from '../../connectors/warehouse/tables.ts';
import { driftline, driftlineOk, exitOf } from './cli.ts';

// `--version` and `--help` answer without loading the command modules (cli/main.ts); start-up time is measured by
// bench/cli-startup.bench.ts, not asserted here.
describe('driftline --version and --help', () => {
  it("--version prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await driftlineOk(['--version'], {})).trim()).toBe(version);
  });

  it('--help lists every pipeline and the global options, with no library output', async () => {
    const help = await driftlineOk(['--help'], {});
    expect(help).toContain(`Pipelines: ${pipelines.map((p) => p.name).join(', ')}`);
    expect(help).toContain('--version');
    expect(help).toContain('--verbose');
    expect(help).not.toMatch(/npm warn|tensorflow|onnxruntime/i);
  });

  it('sql --help names every warehouse table, and an unknown --format is refused before any query', async () => {
    const help = await driftlineOk(['sql', '--help'], {});
    for (const table of TABLE_NAMES) expect(help).toMatch(new RegExp(`[ ,]${table}[,.]`));
    const child = driftline(['sql', 'SELECT 1', '--format', 'yaml'], { CLICKHOUSE_URL: '' });
    expect(await exitOf(child)).toBe(1);
    expect(child.output()).toContain("argument 'yaml' is invalid. Allowed choices are table, json, csv");
  });

  it('the names --help lists without loading the registries are those of the registries', () => {
    expect([...PIPELINE_NAMES]).toEqual(pipelines.map((p) => p.name));
    expect([...MODEL_KIND_NAMES]).toEqual(Object.keys(modelKinds));
  });
});
