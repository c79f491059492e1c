import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from './drift-thresholds.ts';
import { numericTests } from './feature-tests.ts';
import { buildReferenceProfile } from './reference-profile.ts';

describe('a reference in which a numeric feature never has a value', () => {
  it('profiles without failing, and its windows are reported as skipped (a constant series has no z-score)', () => {
    const rows = Array.from({ length: 1000 }, () => ({ z: null as number | null }));
    const profile = buildReferenceProfile(rows, { numeric: { z: (r) => r.z } });
    expect(profile.numeric.z).toEqual({ values: [], count: 0, psiEdges: [], psiCounts: [0] });
    const metrics = numericTests('z', profile.numeric.z!, Float64Array.from([1, 2, 3]), DEFAULT_THRESHOLDS);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.details).toMatchObject({ reason: 'no values in the reference' });
  });
});
