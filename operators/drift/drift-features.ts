/**
 * What a drift monitor watches, as plain functions of a record's value. The same description builds the reference
 * profile (from the model's training data) and reads every live window, so both sides measure the same thing.
 */
export interface DriftFeatures<T> {
  /** Numeric features (text length, brightness, confidence, …); null = missing, not counted. */
  numeric?: Record<string, (value: T) => number | null>;
  /** Categorical features (predicted class, seniority, camera id, …); null = missing. */
  categorical?: Record<string, (value: T) => string | null>;
  /**
   * The record's terms (e.g. lowercase tokens of a posting). They feed two things: a categorical feature
   * `keywords` (the reference's top-K terms plus "other", counted per mention) and the keyword-skew ranking.
   */
  keywords?: (value: T) => Iterable<string>;
}

/** Name of the categorical feature derived from `keywords`. */
export const KEYWORDS_FEATURE = 'keywords';
/** The bucket for categories (or terms) outside the reference's top K. */
export const OTHER = '(other)';
