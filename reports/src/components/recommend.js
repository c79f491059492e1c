// The Trade-offs page's answer: per model, the most accurate SingleStream configuration whose p99 latency and model
// memory fit the reader's budgets. Plain functions (no DOM), so the unit tests run them too.

/** Ties on accuracy go to the lower p99, then the lower energy: the cheaper of two equally right answers. */
function better(a, b) {
  if (a.accuracy !== b.accuracy) return a.accuracy > b.accuracy;
  if (a.p99_ms !== b.p99_ms) return a.p99_ms < b.p99_ms;
  return (a.energy_j_per_1k ?? Infinity) < (b.energy_j_per_1k ?? Infinity);
}

/**
 * One entry per model (sorted by id): `pick` is the best row within `latencyMs` (p99) and `memoryMb` (model memory;
 * rows without a figure count as fitting), or null with `fastest`, the row with the lowest p99, to say what would fit.
 */
export function recommend(rows, latencyMs, memoryMb) {
  const models = [...new Set(rows.map((r) => r.model_id))].sort();
  return models.map((model) => {
    const own = rows.filter((r) => r.model_id === model && r.accuracy !== null && r.p99_ms !== null);
    const fits = own.filter(
      (r) => r.p99_ms <= latencyMs && (r.model_memory_mb === null || r.model_memory_mb <= memoryMb),
    );
    const pick = fits.reduce((best, r) => (best === null || better(r, best) ? r : best), null);
    const fastest = own.reduce((best, r) => (best === null || r.p99_ms < best.p99_ms ? r : best), null);
    return { model, pick, fastest, candidates: own.length, fitting: fits.length };
  });
}

/** "fp32 · onnxruntime · batch 1 · 2 threads": a configuration in words (no codes). */
export function configName(r) {
  return `${r.variant} · ${r.backend} · batch ${r.batch_size} · ${r.threads} thread${r.threads === 1 ? '' : 's'}`;
}

/** Milliseconds with two significant digits (0.052, 0.13, 1.6, 26): one format for every latency on the page. */
export function ms(x) {
  if (x === null || x === undefined) return '–';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : String(Number(x.toPrecision(2)));
}
