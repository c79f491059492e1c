import { describe, expect, it } from 'vitest';
import { FEATURE_DIM, featurize, featurizeBatch, featurizeSparse } from './features.ts';

const a = {
  title: 'Senior Data Scientist',
  description: 'Python, scikit-learn and SQL. Build ML models; C++ and C# a plus.\nNode.js too.',
};
const b = {
  title: 'Software Engineer II',
  description: 'Java / Kotlin micro-services on AWS. CI/CD, React, TypeScript.',
};

describe('postings features (postings-hashed-v1)', () => {
  it('is deterministic, L2-normalized and sparse', () => {
    const x = featurize(a);
    expect(x).toHaveLength(FEATURE_DIM);
    expect(featurize(a)).toEqual(x);
    const nnz = x.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    expect(nnz).toBeGreaterThan(30);
    expect(nnz).toBeLessThan(FEATURE_DIM / 20);
    expect(Math.hypot(...x)).toBeCloseTo(1, 5);
    for (const v of x) expect(v).toBeGreaterThanOrEqual(0);
  });

  it('batch rows equal single rows, also when reusing a dirty output buffer', () => {
    const out = new Float32Array(3 * FEATURE_DIM).fill(7);
    const batch = featurizeBatch([a, b, a], out);
    expect(batch.subarray(0, FEATURE_DIM)).toEqual(featurize(a));
    expect(batch.subarray(FEATURE_DIM, 2 * FEATURE_DIM)).toEqual(featurize(b));
    expect(batch.subarray(2 * FEATURE_DIM)).toEqual(featurize(a));
  });

  it('sparse rows hold exactly the nonzero values of the dense rows', () => {
    for (const p of [a, b, { title: '', description: '' }]) {
      const dense = featurize(p);
      const { length, indices, values } = featurizeSparse(p);
      expect(length).toBe(FEATURE_DIM);
      const rebuilt = new Float32Array(FEATURE_DIM);
      indices.forEach((k, i) => {
        rebuilt[k] = values[i]!;
      });
      expect(rebuilt).toEqual(dense);
      expect(new Set(indices).size).toBe(indices.length);
      expect(indices.length).toBe(dense.filter((v) => v !== 0).length);
    }
  });

  it('is case-insensitive, title-sensitive, and empty text gives a zero row', () => {
    expect(featurize({ title: a.title.toUpperCase(), description: a.description.toUpperCase() })).toEqual(featurize(a));
    expect(featurize({ title: 'Data Engineer', description: a.description })).not.toEqual(featurize(a));
    expect(featurize({ title: '', description: '' }).every((v) => v === 0)).toBe(true);
  });

  it('keeps c++ / c# / node.js distinct from c / node', () => {
    const f = (d: string) => featurize({ title: '', description: d });
    expect(f('c++')).not.toEqual(f('c'));
    expect(f('c#')).not.toEqual(f('c'));
    expect(f('node.js')).not.toEqual(f('node js'));
    expect(f('node.js.')).toEqual(f('node.js'));
  });
});
