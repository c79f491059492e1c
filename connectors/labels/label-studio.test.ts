import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { warehouseReader } from '../warehouse/warehouse-reader.ts';
import { dataFile } from '../../test/data-dir.ts';
import { openWarehouse } from '../warehouse/warehouse.ts';
import { parseLabels } from './label-format.ts';
import { readLabelQueue } from './label-queue.ts';
import { labelStudioConfig, labelStudioProject, NEU_DET_CLASSES } from './label-studio-config.ts';

const classes = ['software_engineering', 'data_science'];
const NOW = Date.UTC(2026, 5, 1);
const parse = (tasks: unknown[]) =>
  parseLabels(Buffer.from(JSON.stringify(tasks, null, 1)), { classes, now: NOW, source: 'file:x.json' });
const choices = (...names: string[]) => [
  { from_name: 'label', to_name: 'text', type: 'choices', value: { choices: names } },
];
const annotation = (fields: Record<string, unknown>) => ({
  id: 7,
  completed_by: 3,
  result: choices('data_science'),
  was_cancelled: false,
  ground_truth: false,
  created_at: '2026-05-01T10:00:00.000000Z',
  updated_at: '2026-05-01T10:00:05.123456Z',
  ...fields,
});
const task = (record_id: unknown, annotations: unknown[]) => ({
  id: 1,
  data: { record_id, text: 'x' },
  annotations,
  predictions: [],
});
const AT = Date.parse('2026-05-01T10:00:05.123Z');

describe('Label Studio JSON export → labels', () => {
  it('reads the choice, the annotator and the time; an expanded completed_by gives the email', () => {
    const { labels, errors, unlabelled } = parse([
      task('46001', [annotation({})]),
      task(46002, [
        annotation({
          completed_by: { id: 3, email: 'ann@example.org', first_name: '', last_name: '' },
          result: choices('Software Engineering'),
        }),
      ]),
    ]);
    expect(errors).toEqual([]);
    expect(unlabelled).toBe(0);
    expect(labels).toEqual([
      { record_id: '46001', label: 1, label_name: 'data_science', source: 'label-studio-user:3', labeled_at: AT },
      { record_id: '46002', label: 0, label_name: 'software_engineering', source: 'ann@example.org', labeled_at: AT },
    ]);
  });

  it('takes the ground-truth annotation, else the latest; skipped and unannotated tasks are no label, no error', () => {
    const early = annotation({ updated_at: '2026-05-01T09:00:00Z', result: choices('software_engineering') });
    const late = annotation({ updated_at: '2026-05-02T09:00:00Z', result: choices('data_science') });
    const { labels, errors, unlabelled } = parse([
      task('a', [late, early]),
      task('b', [late, { ...early, ground_truth: true }]),
      task('c', [annotation({ was_cancelled: true, result: [] })]),
      task('d', []),
    ]);
    expect(errors).toEqual([]);
    expect(labels.map((l) => [l.record_id, l.label])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    expect(unlabelled).toBe(2);
  });

  it('dead-letters a task it cannot make a label of, with the reason and the task bytes', () => {
    const bad = [
      { entry: task(undefined, [annotation({})]), reason: /task 1: data\.record_id is missing/ },
      {
        entry: task('e', [annotation({ result: choices('data_science', 'software_engineering') })]),
        reason: /2 classes chosen/,
      },
      { entry: task('f', [annotation({ result: [] })]), reason: /no class chosen/ },
      { entry: task('g', [annotation({ result: choices('devops') })]), reason: /unknown class "devops"/ },
      { entry: task('h', [annotation({ completed_by: null })]), reason: /no completed_by/ },
    ];
    const { labels, errors } = parse(bad.map((b) => b.entry));
    expect(labels).toEqual([]);
    expect(errors.map((e) => e.reason)).toEqual(bad.map((b) => expect.stringMatching(b.reason)));
    for (const [i, e] of errors.entries()) expect(JSON.parse(e.original.toString())).toEqual(bad[i]!.entry);
  });
});

describe('labelling configs', () => {
  it('postings: text classification with two classes; frames: image classification with the six NEU-DET ones', () => {
    const postings = labelStudioConfig(labelStudioProject('postings'));
    expect(postings).toContain('<Text name="text" value="$text"/>');
    expect([...postings.matchAll(/<Choice value="([^"]+)"/g)].map((m) => m[1])).toEqual(classes);
    const frames = labelStudioConfig(labelStudioProject('frames'));
    expect(frames).toContain('<Image name="image" value="$image"');
    expect([...frames.matchAll(/<Choice value="([^"]+)"/g)].map((m) => m[1])).toEqual([...NEU_DET_CLASSES]);
    expect(() => labelStudioProject('events')).toThrow(/use one of postings, frames/);
  });
});

describe('readLabelQueue (frames, embedded warehouse)', () => {
  it('puts each frame image in its task as a data URI, most uncertain first; says why one is left out', async () => {
    const warehouse = await openWarehouse({ home: mkdtempSync(join(tmpdir(), 'driftline-ls-queue-')) });
    try {
      await warehouse.ensureTables(['label_queue', 'labels', 'frames']);
      const image = dataFile('frames', 'neu-det', 'images', 'scratches_1.jpg');
      const queued = [
        ['neu-det/1', 0.4, 5],
        ['neu-det/2', 0.9, 1],
        ['cam/3', 0.7, 0],
        ['neu-det/4', 0.95, 2],
      ] as const;
      for (const [id, score, label] of queued) {
        const values = `'${id}', 'frames', 'frames-cnn', 'v2', 0, 1000, 'margin', ${score}, 0.5, ${label}, 'why'`;
        await warehouse.query(`INSERT INTO label_queue VALUES ('${id}/cnn', 0, ${values}, 'frames/${id}', 1000)`);
      }
      const frame = (n: number) => `('neu-det/${n}', 0, 'neu-det', ${n}, 0, 200, 200, 1, 'jpeg', '${image}')`;
      await warehouse.query(`INSERT INTO frames
        (id, version, camera_id, sequence, captured_at, width, height, channels, encoding, file) VALUES
        ${frame(1)}, ${frame(2)}, ('cam/3', 0, 'cam', 3, 0, 8, 8, 1, 'raw_gray8', NULL), ${frame(4)}`);
      await warehouse.query(`INSERT INTO labels VALUES ('neu-det/4', 1, 'neu-det/4', 2, 'patches', 'someone', 1, 1)`);

      const project = labelStudioProject('frames');
      const { tasks, missing, labelled } = await readLabelQueue(warehouseReader(warehouse), project);
      expect(labelled).toBe(1);
      expect(missing).toEqual([{ record_id: 'cam/3', reason: expect.stringContaining('came from no file') }]);
      expect(tasks.map((t) => t.data.record_id)).toEqual(['neu-det/2', 'neu-det/1']);
      expect(tasks[0]!.data.image).toBe(`data:image/jpeg;base64,${readFileSync(image).toString('base64')}`);
      expect(tasks[0]!.data.file).toBe('scratches_1.jpg');
      expect(tasks[1]!.predictions).toEqual([
        {
          model_version: 'frames-cnn@v2',
          score: 0.6,
          result: [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: ['scratches'] } }],
        },
      ]);

      const all = await readLabelQueue(warehouseReader(warehouse), project, { includeLabelled: true, limit: 1 });
      expect(all.tasks.map((t) => t.data.record_id)).toEqual(['neu-det/4']);
    } finally {
      await warehouse.close();
    }
  });
});
