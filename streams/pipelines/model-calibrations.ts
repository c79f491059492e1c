/**
 * Calibrations for estimated accuracy (CBPE, operators/compare/README.md), one per model version, kept in memory
 * for `compare-models`, which asks synchronously. They are loaded before the stream starts and whenever Model B is
 * promoted, before the new version scores anything, so a window's estimate never depends on how fast a calibration
 * was computed.
 */
import type { Calibration } from '../../models/calibration/calibration.ts';
import { calibrationFromHeldOut } from '../../models/calibration/calibration-store.ts';
import type { ModelRegistry } from '../../models/registry/registry.ts';

export class ModelCalibrations {
  private readonly byVersion = new Map<string, Calibration>();

  constructor(private readonly registry: ModelRegistry) {}

  /** Computes (or reads the cached file of) a version's calibration on its held-out data. */
  async load(id: string, version: string): Promise<void> {
    const key = `${id}@${version}`;
    if (!this.byVersion.has(key)) this.byVersion.set(key, await calibrationFromHeldOut(this.registry, id, version));
  }

  calibrationFor = (id: string, version: string): Calibration | undefined => this.byVersion.get(`${id}@${version}`);
}
