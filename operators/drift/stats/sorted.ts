/**
 * Ascending Float64Array copy of a sample (NaN last, as NumPy sorts). The reference profile stores its values
 * already sorted, so an O(n) check skips the O(n log n) sort for it.
 */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values);
  for (let i = 1; i < out.length; i++) {
    // `!(a <= b)` is also true when either is NaN: sort then.
    if (!(out[i - 1]! <= out[i]!)) return out.sort();
  }
  return out;
}
