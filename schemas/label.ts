/**
 * A ground-truth label for one record, as it arrives on the `labels` topic, from `driftline label import`, or from a
 * dataset's own truth (HN 2026 `classified.json`). Joined to predictions by `record_id`, however late it comes.
 */
export interface Label {
  /** The id predictions carry as `record_id` (for postings: the posting id). */
  record_id: string;
  /** Class index of the model's output (postings: 0 = software engineering, 1 = data science). */
  label: number;
  /** Class name, when the labeller gave one. */
  label_name: string | null;
  /** Who or what labelled it: a user name, a file, `hn-2026-classified`. */
  source: string;
  /** When the label was given, epoch ms. */
  labeled_at: number;
}

/** The postings classifier's classes (models/postings/train.ts CLASSES): the default for labels given by name. */
export const DEFAULT_LABEL_CLASSES: readonly string[] = ['software_engineering', 'data_science'];
