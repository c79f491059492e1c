/**
 * The `frames` pipeline with the frame CNN on the real NEU-DET frames: the CNN trained once per test run
 * (test/shared-models.ts; registered as `driftline models train frames` does) and its int8 variant
 * (`driftline models quantize`) in an isolated registry, then
 *   - all 1,770 frames in a fixed (seeded) order, one second apart, with a lighting shift from one frame on: drift is
 *     flagged within two windows of the shift and in none before it; fp32 and int8 predict exactly the same frames;
 *   - `driftline run frames --input <dir> --until-idle` (with a --config camera fault and time windows) exits 0, and
 *     a second run writes the same rows;
 *   - without a registered model the pipeline says inference is off and how to turn it on;
 *   - `driftline produce frames` + `driftline run frames --until-idle` through the real Kafka broker.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { listImageFiles, readImageFiles } from '../../connectors/camera/image-directory.ts';
import { fileSource } from '../../connectors/files/file-source.ts';
import { openTransport } from '../../connectors/open-transport.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { ModelRegistry } from '../../models/registry/registry.ts';
import { rng, shuffleInPlace } from '../../models/seeded-random.ts';
import { loadReferenceProfile } from '../../operators/drift/reference-profile.ts';
import { normalizeFrame } from '../../operators/normalize/frame.ts';
import { framesPipeline } from '../../streams/pipelines/frames.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import { dataDir, dataFile } from '../data-dir.ts';
import { driftlineOk } from '../e2e/cli.ts';
import { uniqueName } from '../kafka/kafka-test-helpers.ts';
import { registerTrainedOnce } from '../shared-models.ts';

const work = mkdtempSync(join(tmpdir(), 'driftline-frames-model-'));
const manifest = join(work, 'models.json');
const registryHome = join(work, 'registry');
writeFileSync(manifest, '{"models":[]}');
const registry = new ModelRegistry({ manifestPath: manifest, home: registryHome });

/** A fresh DRIFTLINE_HOME (own warehouse and log) that sees the registered model artifacts. */
function homeWithModels(name: string): string {
  const home = join(work, name);
  mkdirSync(home);
  symlinkSync(join(registryHome, 'models'), join(home, 'models'));
  return home;
}

/** Embedded warehouse and log, the isolated registry. */
const embedded = (home: string) => ({
  DRIFTLINE_HOME: home,
  DRIFTLINE_MODELS_MANIFEST: manifest,
  CLICKHOUSE_URL: '',
  KAFKA_BROKERS: '',
  SCHEMA_REGISTRY_URL: '',
});

async function query<T = Record<string, unknown>>(home: string, sql: string): Promise<T[]> {
  const warehouse = await openWarehouse({ home });
  try {
    return (await warehouse.query(sql)) as T[];
  } finally {
    await warehouse.close();
  }
}

/**
 * The class in a NEU-DET file name, read here independently of the connector: `rolled-in_scale_12.jpg` →
 * `rolled-in_scale`.
 */
const classOf = (file: string) => /^(.+)_\d+\.jpg$/.exec(basename(file))![1]!;

/** `perClass` images of every class, copied into `<tmp>/<camera>/`; the first file's time is a whole second. */
async function cameraFolder(camera: string, perClass: number): Promise<{ dir: string; files: string[] }> {
  const all = await listImageFiles(dataFile('frames', 'neu-det', 'images'));
  const picked = [...new Set(all.map(classOf))].flatMap((c) => all.filter((f) => classOf(f) === c).slice(0, perClass));
  const dir = join(mkdtempSync(join(tmpdir(), 'driftline-frames-cam-')), camera);
  mkdirSync(dir);
  for (const f of picked) copyFileSync(f, join(dir, basename(f)));
  const files = await listImageFiles(dir);
  const t = new Date('2026-02-02T09:00:00Z');
  utimesSync(files[0]!, t, t);
  return { dir, files };
}

/** Rows as sorted JSON without the wall-clock columns, the run id masked: equal for two runs over the same input. */
const comparable = (rows: Record<string, unknown>[], runId: string) =>
  rows
    .map((r) =>
      JSON.stringify(
        Object.fromEntries(Object.entries(r).filter(([k]) => !['run_id', 'predicted_at', 'latency_ms'].includes(k))),
        (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
      ).replaceAll(runId, '<run>'),
    )
    .sort();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface PredictionRow {
  record_id: string;
  model_version: string;
  label: number;
  latency_ms: number;
}

beforeAll(async () => {
  const env = { DRIFTLINE_MODELS_MANIFEST: manifest, DRIFTLINE_HOME: registryHome };
  const t0 = performance.now();
  await registerTrainedOnce('frames', dataDir(), { manifestPath: manifest, home: registryHome });
  await driftlineOk(['models', 'quantize', 'frames-cnn', '--precision', 'int8'], env);
  console.log(`frames-cnn registered and quantized in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}, 900_000);

describe('frames pipeline with the frame CNN (fp32 + int8), uncertainty sampling and drift', () => {
  it('stores the reference profile of the fp32 version: held-out frames with its predictions', () => {
    const [fp32, int8] = [registry.get('frames-cnn', 'v1'), registry.get('frames-cnn', 'v2')];
    expect([fp32.precision, int8.precision, int8.parent]).toEqual(['fp32', 'int8', 'frames-cnn@v1']);
    const profile = loadReferenceProfile(registry.path(fp32));
    expect(profile.model).toBe('frames-cnn@v1');
    expect(profile.rows).toBe(354); // the stratified 20 % held-out split
    expect(Object.keys(profile.numeric).sort()).toEqual(['brightness', 'contrast', 'sharpness']);
    expect(profile.numeric.brightness!.count).toBe(354);
    const classes = profile.categorical.predicted_class!;
    expect(classes.count).toBe(354);
    expect(
      Object.keys(classes.counts)
        .filter((c) => classes.counts[c]! > 0)
        .sort(),
    ).toEqual(['crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches']);
  });

  it('1,770 frames, lighting +0.3 from frame 1,100: drift within 2 windows, never before; fp32, int8', async () => {
    const window = 250;
    const shiftAt = 1100;
    const start = Date.UTC(2026, 0, 5, 6);
    const files = shuffleInPlace(await listImageFiles(dataFile('frames', 'neu-det', 'images')), rng(2026));
    const home = homeWithModels('shift');
    const settings = loadSettings({ DRIFTLINE_HOME: home });
    const transport = openTransport(settings);
    const warehouse = await openWarehouse(settings);
    const t0 = performance.now();
    try {
      await warehouse.ensureTables();
      // One camera, frames in the shuffled order, one second apart.
      const source = fileSource(files, (f) => readImageFiles(f, { cameraId: 'neu', fps: 1, startAt: start }));
      const options = { driftWindowFrames: window, drift: { from: shiftAt, brightness: 0.3 } };
      const result = await runPipeline(
        framesPipeline.build(source, { transport, warehouse, models: registry, settings, options, runId: 'shift-run' }),
        { untilIdle: true },
      );
      expect(result.deadLetters).toBe(0);
    } finally {
      await warehouse.close();
      await transport.close();
    }
    console.log(`pipeline over ${files.length} frames: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // fp32 and int8: one prediction each for every frame, same record ids.
    const predictions = await query<PredictionRow>(
      home,
      'SELECT record_id, model_version, label, latency_ms FROM predictions',
    );
    const byVersion = (v: string) => predictions.filter((p) => p.model_version === v);
    const [fp32, int8] = [byVersion('v1'), byVersion('v2')];
    expect(fp32).toHaveLength(files.length);
    expect(new Set(int8.map((p) => p.record_id))).toEqual(new Set(fp32.map((p) => p.record_id)));
    expect(int8).toHaveLength(files.length);

    // Accuracy against the file-name labels, before and after the shift.
    const classes = [...new Set(files.map(classOf))].sort();
    const sequenceOf = (p: PredictionRow) => Number(p.record_id.split('/').at(-1));
    const accuracy = (rows: PredictionRow[]) =>
      rows.filter((p) => classes[p.label] === classOf(files[sequenceOf(p)]!)).length / rows.length;
    const split = (rows: PredictionRow[]) =>
      [rows.filter((p) => sequenceOf(p) < shiftAt), rows.filter((p) => sequenceOf(p) >= shiftAt)] as const;
    const [fp32Before, fp32After] = split(fp32);
    const [int8Before, int8After] = split(int8);
    const agreement =
      fp32.filter((p) => int8.find((q) => q.record_id === p.record_id)!.label === p.label).length / fp32.length;
    console.log(
      `accuracy on the same ${fp32.length} frames: fp32 ${accuracy(fp32).toFixed(4)}, ` +
        `int8 ${accuracy(int8).toFixed(4)}; ` +
        `before the shift fp32 ${accuracy(fp32Before).toFixed(4)} / int8 ${accuracy(int8Before).toFixed(4)}, after ` +
        `fp32 ${accuracy(fp32After).toFixed(4)} / int8 ${accuracy(int8After).toFixed(4)}; ` +
        `fp32 and int8 agree on ${(agreement * 100).toFixed(1)} %\n` +
        `median latency per frame: fp32 ${median(fp32.map((p) => Number(p.latency_ms))).toFixed(3)} ms, ` +
        `int8 ${median(int8.map((p) => Number(p.latency_ms))).toFixed(3)} ms`,
    );
    expect(accuracy(fp32Before)).toBeGreaterThan(0.9);
    expect(accuracy(int8Before)).toBeGreaterThanOrEqual(0.98 * accuracy(fp32Before));
    expect(agreement).toBeGreaterThan(0.95);

    // The shift itself: drifted frames are PNGs, about 0.3 brighter.
    const frames = await query<{ sequence: number; encoding: string; brightness: number }>(
      home,
      'SELECT sequence, encoding, brightness FROM frames',
    );
    expect(frames).toHaveLength(files.length);
    const meanBrightness = (rows: typeof frames) => rows.reduce((s, f) => s + f.brightness, 0) / rows.length;
    const [before, after] = [
      frames.filter((f) => Number(f.sequence) < shiftAt),
      frames.filter((f) => Number(f.sequence) >= shiftAt),
    ];
    expect(new Set(after.map((f) => f.encoding))).toEqual(new Set(['png']));
    expect(new Set(before.map((f) => f.encoding))).toEqual(new Set(['jpeg']));
    expect(meanBrightness(after) - meanBrightness(before)).toBeGreaterThan(0.15);

    // Drift per window: the window holding frame `shiftAt` or the next one raises the alert; no window before it does.
    const windowOf = (windowStart: number) => (Number(windowStart) - start) / 1000 / window;
    const metrics = await query<{
      window_start: number;
      feature: string;
      test: string;
      statistic: number;
      p_value: number | null;
      drifted: number;
    }>(
      home,
      'SELECT window_start, feature, test, statistic, p_value, drifted FROM drift_metrics WHERE run_id = ' +
        "'shift-run' AND test <> 'psi' ORDER BY window_start, feature",
    );
    const alerts = await query<{ window_start: number; feature: string; message: string }>(
      home,
      "SELECT window_start, feature, message FROM drift_alerts WHERE run_id = 'shift-run' ORDER BY window_start",
    );
    for (const w of [...new Set(metrics.map((m) => windowOf(m.window_start)))]) {
      const line = metrics
        .filter((m) => windowOf(m.window_start) === w)
        .map(
          (m) =>
            `${m.feature} ${m.test} ${Number(m.statistic).toFixed(3)}` +
            (m.p_value === null ? '' : ` p=${Number(m.p_value).toPrecision(2)}`) +
            (Number(m.drifted) ? ' DRIFT' : ''),
        );
      console.log(`window ${w} (frames ${w * window}–${w * window + window - 1}): ${line.join(', ')}`);
    }
    const shiftWindow = Math.floor(shiftAt / window);
    const drifted = (feature: string, w: number) =>
      metrics.some((m) => m.feature === feature && windowOf(m.window_start) === w && Number(m.drifted) === 1);
    for (let w = 0; w < shiftWindow; w++) {
      expect(drifted('dataset', w), `window ${w}`).toBe(false);
      expect(drifted('brightness', w), `window ${w}`).toBe(false);
    }
    const alerted = alerts.map((a) => windowOf(a.window_start)).sort((a, b) => a - b);
    expect(alerted.length).toBeGreaterThan(0);
    expect(alerted[0]).toBeGreaterThanOrEqual(shiftWindow);
    expect(alerted[0]).toBeLessThanOrEqual(shiftWindow + 1);
    expect(drifted('brightness', alerted[0]!)).toBe(true);
    console.log(
      `drift alerts in windows ${alerted.join(', ')} (shift in ` +
        `window ${shiftWindow}): ${alerts.map((a) => a.message).join(' | ')}`,
    );

    // Labelling: fp32 predictions only, at most the default budget of 20 per window, distinct frames.
    const queued = await query<{ record_id: string; model_version: string; window_start: number }>(
      home,
      'SELECT record_id, model_version, window_start FROM label_queue',
    );
    expect(queued.length).toBeGreaterThan(0);
    expect(new Set(queued.map((q) => q.model_version))).toEqual(new Set(['v1']));
    const perWindow = new Map<number, number>();
    for (const q of queued) perWindow.set(Number(q.window_start), (perWindow.get(Number(q.window_start)) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(20);
    expect(new Set(queued.map((q) => q.record_id)).size).toBe(queued.length);
  }, 600_000);

  it('run frames --input <dir> --until-idle exits 0: both variants, --config camera fault, 1 s windows', async () => {
    const { dir, files } = await cameraFolder('line-7', 10);
    const home = homeWithModels('cli');
    const config = join(work, 'frames-config.json');
    const fault = { from: 30, brightness: -0.25, blur: 1.5, noise: 0.02 };
    writeFileSync(
      config,
      JSON.stringify({
        pipelines: { frames: { drift: fault, driftWindowSeconds: 1, driftMinWindow: 25, labelBudget: 5 } },
      }),
    );
    // Two runs over the same folder side by side (own homes): the second checks determinism at the end.
    const again = homeWithModels('cli-again');
    const t0 = performance.now();
    const [output, secondOutput] = await Promise.all(
      [home, again].map((h) =>
        driftlineOk(['run', 'frames', '--input', dir, '--until-idle', '--config', config], embedded(h)),
      ),
    );
    console.log(
      `driftline run frames --input (${files.length} frames), two runs side by ` +
        `side: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(output).toMatch(/frames: inference with frames-cnn@v1 \(fp32\) and frames-cnn@v2 \(int8\) side by side/);
    expect(output).toMatch(
      /frames: drift against frames-cnn@v1's reference profile \(354 held-out frames\), 1 s windows/,
    );

    const predictions = await query<{ model_version: string; n: number }>(
      home,
      'SELECT model_version, count(*) AS n FROM predictions GROUP BY model_version ORDER BY model_version',
    );
    expect(predictions.map((p) => [p.model_version, Number(p.n)])).toEqual([
      ['v1', files.length],
      ['v2', files.length],
    ]);

    // 30 fps from a whole second: frames 0–29 and 30–59 are the two 1 s windows; the fault starts with the second.
    const frames = await query<{ sequence: number; file: string; brightness: number; encoding: string }>(
      home,
      'SELECT sequence, file, brightness, encoding FROM frames ORDER BY sequence',
    );
    for (const f of frames.filter((x) => Number(x.sequence) >= fault.from)) {
      const original = await normalizeFrame(
        {
          camera_id: 'x',
          sequence: 0,
          captured_at: 0,
          width: 200,
          height: 200,
          channels: 3,
          encoding: 'jpeg',
          data: readFileSync(f.file),
        },
        { size: 48 },
      );
      expect(f.encoding).toBe('png');
      expect(original.brightness - f.brightness, f.file).toBeGreaterThan(0.15);
    }
    const windows = await query<{ window_start: number; window_end: number; window_count: number; drifted: number }>(
      home,
      "SELECT window_start, window_end, window_count, drifted FROM drift_metrics WHERE feature = 'brightness' AND " +
        "test = 'ks' ORDER BY window_start",
    );
    expect(windows.map((w) => [Number(w.window_end) - Number(w.window_start), Number(w.window_count)])).toEqual([
      [1000, 30],
      [1000, 30],
    ]);
    expect(Number(windows[1]!.drifted)).toBe(1);
    const queued = await query<{ n: number }>(home, 'SELECT count(*) AS n FROM label_queue GROUP BY window_start');
    expect(queued.every((q) => Number(q.n) <= 5)).toBe(true);

    // Deterministic: the second run over the same folder wrote the same rows, but for its run id and the wall clock.
    const runIds = [output, secondOutput].map((o) => /run (\S+) done/.exec(o)![1]!);
    for (const table of ['frames', 'predictions', 'label_queue', 'drift_metrics', 'drift_alerts']) {
      const [first, second] = await Promise.all(
        [home, again].map(async (h, i) => comparable(await query(h, `SELECT * FROM ${table}`), runIds[i]!)),
      );
      expect(first!.length, table).toBeGreaterThan(0);
      expect(second, table).toEqual(first);
    }
  }, 300_000);

  it('no frames model (none, or no artifact): inference off, one line says the fix; frames stored', async () => {
    const { dir, files } = await cameraFolder('line-8', 2);
    const home = mkdtempSync(join(tmpdir(), 'driftline-frames-nomodel-'));
    const empty = join(home, 'models.json');
    writeFileSync(empty, '{"models":[]}');
    const output = await driftlineOk(['run', 'frames', '--input', dir, '--until-idle'], {
      ...embedded(home),
      DRIFTLINE_MODELS_MANIFEST: empty,
    });
    // but the run summary
    const lines = output.split('\n').filter((l) => l.startsWith('frames: ') && !l.startsWith('frames: run '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /inference is off: no fp32 frames-cnn model in the registry .* Enable it with `driftline models train frames`/,
    );
    expect(Number((await query<{ n: number }>(home, 'SELECT count(*) AS n FROM frames'))[0]!.n)).toBe(files.length);
    expect(Number((await query<{ n: number }>(home, 'SELECT count(*) AS n FROM predictions'))[0]!.n)).toBe(0);

    // A fresh checkout: the committed manifest lists frames-cnn, but its artifacts were never trained here.
    const fresh = mkdtempSync(join(tmpdir(), 'driftline-frames-fresh-'));
    const freshOutput = await driftlineOk(['run', 'frames', '--input', dir, '--until-idle'], embedded(fresh));
    expect(freshOutput).toMatch(
      new RegExp(
        'frames: inference is off: frames-cnn@v1 is registered but its ' +
          String.raw`artifact .*model\.onnx is not here; .*driftline models train frames`,
      ),
    );
    expect(Number((await query<{ n: number }>(fresh, 'SELECT count(*) AS n FROM frames'))[0]!.n)).toBe(files.length);
  }, 120_000);

  it('real Kafka: produce frames, then run frames --until-idle lands fp32 and int8 predictions', async () => {
    const { dir, files } = await cameraFolder('line-9', 5);
    const home = homeWithModels('kafka');
    const env = {
      ...embedded(home),
      KAFKA_BROKERS: inject('KAFKA_BROKERS'),
      DRIFTLINE_TOPIC_PREFIX: `${uniqueName('frames')}.`,
    };
    const t0 = performance.now();
    await driftlineOk(['produce', 'frames', dir], env);
    const output = await driftlineOk(['run', 'frames', '--until-idle'], env);
    console.log(
      `produce + run through Kafka (${files.length} frames): ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(output).toMatch(/running frames on kafka topic frames-.*\.frames/);
    const predictions = await query<{ record_id: string; model_version: string }>(
      home,
      'SELECT record_id, model_version FROM predictions',
    );
    const ids = (v: string) =>
      predictions
        .filter((p) => p.model_version === v)
        .map((p) => p.record_id)
        .sort();
    expect(ids('v1')).toHaveLength(files.length);
    expect(ids('v2')).toEqual(ids('v1'));
    expect(ids('v1')).toEqual(files.map((_, i) => `line-9/${i}`).sort());
  }, 300_000);
});
