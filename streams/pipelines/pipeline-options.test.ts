import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventsPipeline } from './events.ts';
import { framesPipeline } from './frames.ts';
import { postingsPipeline } from './postings.ts';
import { pipelineOptions, pipelines } from './registry.ts';

/** The option names a pipeline's table in README.md lists (`| \`<name>\` option | default | meaning |`). */
function documentedOptions(pipeline: string): string[] {
  const lines = readFileSync(join(import.meta.dirname, 'README.md'), 'utf8').split('\n');
  const header = lines.findIndex((l) => l.startsWith(`| \`${pipeline}\` option |`));
  if (header < 0) return [];
  const rows = lines.slice(header + 2);
  return rows
    .slice(
      0,
      rows.findIndex((l) => !l.startsWith('|')),
    )
    .map((l) => /^\| `([^`]+)` \|/.exec(l)?.[1] ?? l);
}

describe('pipeline options', () => {
  it('README.md documents exactly the options each pipeline has', () => {
    for (const p of pipelines) expect(documentedOptions(p.name), p.name).toEqual(Object.keys(p.options));
  });

  it("returns the named pipeline's options, typed and checked", () => {
    const settings = {
      pipelines: { postings: { windowDays: 7, trainingClock: 'wall' }, events: { changeDetector: 'page_hinkley' } },
    };
    expect(pipelineOptions(postingsPipeline, settings)).toEqual({ windowDays: 7, trainingClock: 'wall' });
    expect(pipelineOptions(eventsPipeline, settings).changeDetector).toBe('page_hinkley');
    expect(pipelineOptions(framesPipeline, settings)).toEqual({});
  });

  it('checks every section of the file, not only the pipeline that runs', () => {
    const settings = { pipelines: { events: {}, frames: { drift: { from: 10 } } } };
    expect(() => pipelineOptions(eventsPipeline, settings)).toThrow(
      'pipeline "frames": config option "drift" changes nothing: give brightness, blur or noise',
    );
    expect(() => pipelineOptions(eventsPipeline, { pipelines: { posting: {} } })).toThrow(
      'config: no pipeline named "posting"',
    );
  });

  it("checks each pipeline's values against its rules", () => {
    const bad: Array<[string, Record<string, unknown>, string]> = [
      [
        'postings',
        { driftReference: 'stream' },
        'config option "driftReference" must be "model" or "warm-up", got "stream"',
      ],
      ['postings', { pseudoThreshold: 1.5 }, 'config option "pseudoThreshold" must be a number in (0, 1], got 1.5'],
      ['postings', { train: 'yes' }, 'config option "train" must be true or false, got "yes"'],
      [
        'events',
        { changeDetector: 'cusum' },
        'config option "changeDetector" must be "adwin" or "page_hinkley", got "cusum"',
      ],
      ['events', { rollingEvents: 0 }, 'config option "rollingEvents" must be a positive integer, got 0'],
      ['frames', { size: 'big' }, 'config option "size" must be a positive integer, got "big"'],
      ['labels', { classes: [] }, 'config option "classes" must be a non-empty array of non-empty strings, got []'],
    ];
    for (const [name, options, message] of bad) {
      const definition = pipelines.find((p) => p.name === name)!;
      expect(() => pipelineOptions(definition, { pipelines: { [name]: options } }), name).toThrow(
        `pipeline "${name}": ${message}`,
      );
    }
  });
});
