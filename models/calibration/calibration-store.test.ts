/**
 * calibrationFromHeldOut on a registered ONNX model (a small dense softmax network whose outputs are recomputed in
 * plain JS here) with saved held-out data: the stored calibration is the one fitted on the model's own top-class
 * probabilities, it is cached beside the artifact, and a file fitted for other bytes is not trusted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveHeldOut } from '../held-out-store.ts';
import { denseForward, denseModel, randomDense } from '../infer/dense-model.ts';
import { ModelRegistry } from '../registry/registry.ts';
import { rng } from '../seeded-random.ts';
import { fitCalibration } from './calibration.ts';
import {
  CALIBRATION_ESTIMATE_FILE,
  calibrationFile,
  calibrationFromHeldOut,
  loadCalibration,
} from './calibration-store.ts';

const SIZES = [4, 8, 3];
const ROWS = 400;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const home = mkdtempSync(join(tmpdir(), 'driftline-calibration-'));
  dirs.push(home);
  const registry = new ModelRegistry({ home, manifestPath: join(home, 'models', 'manifest.json') });
  const layers = randomDense(SIZES, 41);
  const entry = registry.register({
    id: 'clf',
    kind: 'user',
    onnx: denseModel({ sizes: SIZES, layers }),
    datasetHash: 'd',
    configHash: 'c',
  });
  // Labels follow the model's confidence loosely: the top class with probability top + 0.1, else another class.
  const random = rng(7);
  const inputs = Float32Array.from({ length: ROWS * SIZES[0]! }, () => (random() - 0.5) * 8);
  const labels = new Int32Array(ROWS);
  for (let r = 0; r < ROWS; r++) {
    const p = denseForward(SIZES, layers, inputs.subarray(r * 4, r * 4 + 4));
    const best = p.indexOf(Math.max(...p));
    labels[r] = random() < Math.max(...p) + 0.1 ? best : (best + 1 + Math.floor(random() * 2)) % 3;
  }
  saveHeldOut(registry.path(entry), 'held-out', { inputs, shape: [ROWS, SIZES[0]!], labels });
  return { registry, entry, layers, inputs, labels };
}

/** The calibration expected for `layers` on the held-out rows, from probabilities computed in JS. */
function expectedCalibration(layers: ReturnType<typeof randomDense>, inputs: Float32Array, labels: Int32Array) {
  const top: number[] = [];
  const correct: boolean[] = [];
  for (let r = 0; r < ROWS; r++) {
    const p = denseForward(SIZES, layers, inputs.subarray(r * 4, r * 4 + 4));
    top.push(Math.max(...p));
    correct.push(p.indexOf(Math.max(...p)) === labels[r]);
  }
  return fitCalibration(top, correct, 'isotonic');
}

describe('calibrationFromHeldOut', () => {
  it('fits isotonic on the version held-out predictions, saves it beside the artifact and reuses it', async () => {
    const { registry, entry, layers, inputs, labels } = setup();
    expect(loadCalibration(registry, entry)).toBeUndefined();
    const cal = await calibrationFromHeldOut(registry, 'clf', 'v1');

    const want = expectedCalibration(layers, inputs, labels);
    if (cal.method !== 'isotonic' || want.method !== 'isotonic') throw new Error('expected isotonic calibrations');
    expect([cal.reference_rows, cal.reference_accuracy]).toEqual([ROWS, want.reference_accuracy]);
    expect(cal.reference_accuracy).toBeGreaterThan(0.4);
    expect(cal.reference_accuracy).toBeLessThan(0.95);
    // float32 on ONNX Runtime, float64 here (the curve is pulled toward the rows' confidence, so y carries it too)
    expect(cal.y).toHaveLength(want.y.length);
    cal.x.forEach((x, i) => {
      expect(x).toBeCloseTo(want.x[i]!, 5);
    });
    cal.y.forEach((y, i) => {
      expect(y).toBeCloseTo(want.y[i]!, 5);
    });

    const file = calibrationFile(registry, entry);
    expect(file).toBe(join(dirname(registry.path(entry)), CALIBRATION_ESTIMATE_FILE));
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toEqual({ model: 'clf@v1', sha256: entry.sha256, calibration: cal });
    // the quantization data's name is left alone
    expect(existsSync(join(dirname(file), 'calibration.json'))).toBe(false);

    // The saved file is what a second call returns (edited here, so a refit would show).
    writeFileSync(file, JSON.stringify({ ...stored, calibration: { ...cal, reference_accuracy: 0.123 } }));
    expect((await calibrationFromHeldOut(registry, 'clf', 'v1')).reference_accuracy).toBe(0.123);
  });

  it('refits when the saved file was fitted for other bytes, and refuses a malformed one', async () => {
    const { registry, entry, layers, inputs, labels } = setup();
    const file = calibrationFile(registry, entry);
    const other = { ...expectedCalibration(layers, inputs, labels), reference_accuracy: 0.5 };
    writeFileSync(file, JSON.stringify({ model: 'clf@v1', sha256: 'f'.repeat(64), calibration: other }));
    expect(loadCalibration(registry, entry)).toBeUndefined();
    const cal = await calibrationFromHeldOut(registry, 'clf', 'v1');
    expect(cal.reference_accuracy).toBe(expectedCalibration(layers, inputs, labels).reference_accuracy);
    expect(JSON.parse(readFileSync(file, 'utf8')).sha256).toBe(entry.sha256);

    writeFileSync(
      file,
      JSON.stringify({
        model: 'clf@v1',
        sha256: entry.sha256,
        calibration: { method: 'isotonic', x: [0.5], reference_rows: 3, reference_accuracy: 0.7 },
      }),
    );
    expect(() => loadCalibration(registry, entry)).toThrow(`${file}: "calibration" is not one`);
  });

  it('a version without held-out data of its own is calibrated on its parent held-out data', async () => {
    const { registry, inputs, labels, layers: parentLayers } = setup();
    const layers = randomDense(SIZES, 77);
    const child = registry.register({
      id: 'clf',
      kind: 'user',
      onnx: denseModel({ sizes: SIZES, layers }),
      parent: 'clf@v1',
      datasetHash: 'd',
      configHash: 'c',
    });
    const cal = await calibrationFromHeldOut(registry, 'clf', child.version);
    // the child's predictions…
    expect(cal.reference_accuracy).toBe(expectedCalibration(layers, inputs, labels).reference_accuracy);
    // …not the parent's
    expect(cal.reference_accuracy).not.toBe(expectedCalibration(parentLayers, inputs, labels).reference_accuracy);
    expect(existsSync(calibrationFile(registry, child))).toBe(true);
    await expect(calibrationFromHeldOut(registry, 'clf', 'v9')).rejects.toThrow('model clf has no version v9');
  });
});
