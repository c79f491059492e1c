import type { StreamRecord } from '../../streams/kernel/record.ts';
import { Adwin } from './detectors/adwin.ts';
import { PageHinkley } from './detectors/page-hinkley.ts';
import type { DetectorDescription } from './drift-window-report.ts';

export interface DetectorSpec<T> {
  value: (value: T) => number | null;
  method: 'adwin' | 'page_hinkley';
  /** ADWIN confidence δ (default 0.002) — ignored by Page-Hinkley. */
  delta?: number;
  /** Page-Hinkley options (river's defaults otherwise). */
  pageHinkley?: ConstructorParameters<typeof PageHinkley>[0];
}

/** A detection: which feature's detector fired, on which record, at which value. */
export interface Detection {
  feature: string;
  detector: DetectorDescription;
  record: StreamRecord<unknown>;
  x: number;
}

/** Per-event change detectors, one per feature and record key, across windows. */
export class ChangeDetectors<T> {
  private readonly specs: [string, DetectorSpec<T>][];
  private readonly detectors = new Map<string, { update(x: number): boolean }>();

  constructor(specs: Record<string, DetectorSpec<T>> = {}) {
    this.specs = Object.entries(specs);
  }

  get empty(): boolean {
    return this.specs.length === 0;
  }

  /** Feeds every record's values to its key's detectors; returns the detections, in record order. */
  update(records: readonly StreamRecord<T>[]): Detection[] {
    const found: Detection[] = [];
    for (const record of records) {
      for (const [feature, spec] of this.specs) {
        const x = spec.value(record.value);
        if (x === null || !Number.isFinite(x)) continue;
        if (this.detectorFor(feature, spec, record.key).update(x))
          found.push({ feature, detector: describe(spec), record, x });
      }
    }
    return found;
  }

  private detectorFor(feature: string, spec: DetectorSpec<T>, key: string | null): { update(x: number): boolean } {
    const id = `${feature}\u0000${key}`;
    const found = this.detectors.get(id);
    if (found) return found;
    const created =
      spec.method === 'adwin' ? new Adwin({ delta: spec.delta ?? 0.002 }) : new PageHinkley(spec.pageHinkley);
    this.detectors.set(id, created);
    return created;
  }
}

function describe<T>(spec: DetectorSpec<T>): DetectorDescription {
  return {
    method: spec.method,
    threshold: spec.method === 'adwin' ? (spec.delta ?? 0.002) : (spec.pageHinkley?.threshold ?? 50),
  };
}
