/**
 * Keeps a model version's CBPE calibration beside its artifact, as `calibration-estimate.json` (`calibration.f32/json`
 * beside it is the quantization data: another thing). It is fitted on the version's held-out data, scored the way
 * `driftline models eval` scores it, and records the sha256 of the artifact it was fitted for, so a calibration left
 * behind by an earlier model registered under the same path is not mistaken for this one's.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { argmax } from '../classification-metrics.ts';
import { predictHeldOut } from '../held-out-prediction.ts';
import type { ModelEntry, ModelRegistry } from '../registry/registry.ts';
import { type Calibration, fitCalibration, isCalibration } from './calibration.ts';

export const CALIBRATION_ESTIMATE_FILE = 'calibration-estimate.json';

/** What the file holds. */
interface StoredCalibration {
  /** `id@version` it was fitted for. */
  model: string;
  sha256: string;
  calibration: Calibration;
}

/** Where a version's calibration lives: beside its model file. */
export const calibrationFile = (registry: ModelRegistry, entry: ModelEntry): string =>
  join(dirname(registry.path(entry)), CALIBRATION_ESTIMATE_FILE);

export function saveCalibration(registry: ModelRegistry, entry: ModelEntry, calibration: Calibration): void {
  const file = calibrationFile(registry, entry);
  mkdirSync(dirname(file), { recursive: true });
  const stored: StoredCalibration = { model: `${entry.id}@${entry.version}`, sha256: entry.sha256, calibration };
  const tmp = `${file}.${process.pid}.tmp`; // a reader never sees half a file
  writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The saved calibration of a version; undefined when there is none, or it was fitted for other bytes. */
export function loadCalibration(registry: ModelRegistry, entry: ModelEntry): Calibration | undefined {
  const file = calibrationFile(registry, entry);
  if (!existsSync(file)) return undefined;
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredCalibration>;
  if (stored.sha256 !== entry.sha256) return undefined;
  if (!isCalibration(stored.calibration))
    throw new Error(
      `${file}: "calibration" is not one (isotonic with x and y, or platt with a and b; reference_rows and ` +
        `reference_accuracy)`,
    );
  return stored.calibration;
}

/**
 * A version's calibration: the saved one, else fitted now (isotonic) on its held-out data — its own, or its
 * parents' for a quantized variant or a fine-tuned Model B, as `models eval` does — then saved.
 */
export async function calibrationFromHeldOut(
  registry: ModelRegistry,
  id: string,
  version: string,
): Promise<Calibration> {
  const entry = registry.get(id, version);
  const saved = loadCalibration(registry, entry);
  if (saved) return saved;
  const { heldOut, probabilities } = await predictHeldOut(registry, entry);
  const rows = heldOut.labels.length;
  if (rows === 0) throw new Error(`model ${id}@${entry.version}: its held-out data has no rows to calibrate on`);
  const classes = probabilities.length / rows;
  const top = new Float64Array(rows);
  const correct: (0 | 1)[] = [];
  for (let row = 0; row < rows; row++) {
    const best = argmax(probabilities, row, classes);
    top[row] = probabilities[row * classes + best]!;
    correct.push(best === heldOut.labels[row] ? 1 : 0);
  }
  const calibration = fitCalibration(top, correct, 'isotonic');
  saveCalibration(registry, entry, calibration);
  return calibration;
}
