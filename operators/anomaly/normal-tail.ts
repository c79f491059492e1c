/**
 * The Gaussian tail probability Q(z) = P(Z > z) through the complementary error function. erfc is W. J. Cody's
 * rational approximation as given in Numerical Recipes (`erfcc`, fractional error below 1.2e-7 everywhere): plenty
 * for anomaly scores, and no dependency.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

/**
 * Two-sided tail of a normal distribution as Numenta's anomaly likelihood computes it: the probability of a value at
 * least as far from the mean as x, on x's side (values below the mean are mirrored above it).
 */
export function normalTail(x: number, mean: number, std: number): number {
  const above = x < mean ? 2 * mean - x : x;
  return 0.5 * erfc((above - mean) / std / Math.SQRT2);
}
