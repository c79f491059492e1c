/**
 * Records → input rows for `infer`: calls `toInput`, checks each row's length (and a sparse row's indices), and
 * dead-letters the records whose row is unusable. Also the sparse-row helpers the batch building uses.
 */
import type { StreamRecord } from '../../streams/kernel/record.ts';
import { type StageOutput, reasonOf } from '../../streams/kernel/stage.ts';
import type { InferOptions, SparseRow } from './infer.ts';

/** A row as the inference batches take it: dense float32, or sparse. */
export type InputRow = Float32Array | SparseRow;

/** The usable rows and their records, in batch order. */
export interface InputRows<I> {
  rows: InputRow[];
  valid: StreamRecord<I>[];
}

export interface RowShape {
  /** Values per row: the product of featureShape. */
  width: number;
  /** Why a row of this length does not fit featureShape. */
  lengthProblem: (length: number) => string;
}

export function buildRows<I>(
  records: StreamRecord<I>[],
  toInput: InferOptions<I>['toInput'],
  shape: RowShape,
  out: StageOutput<unknown>,
): InputRows<I> {
  const rows: InputRow[] = [];
  const valid: StreamRecord<I>[] = [];
  for (const record of records) {
    let row: Float32Array | ArrayLike<number> | SparseRow;
    try {
      row = toInput(record.value, record);
    } catch (error) {
      out.deadLetter(record, new Error(`toInput failed: ${reasonOf(error)}`));
      continue;
    }
    // Lengths are checked here; finiteness while the rows are copied into the batch (inference-chunks.ts).
    const problem = rowProblem(row, shape);
    if (problem) {
      out.deadLetter(record, new Error(problem));
      continue;
    }
    rows.push(row instanceof Float32Array || isSparse(row) ? row : Float32Array.from(row as ArrayLike<number>));
    valid.push(record);
  }
  return { rows, valid };
}

/** Why a row `toInput` returned is unusable, or null. */
function rowProblem(
  row: Float32Array | ArrayLike<number> | SparseRow,
  { width, lengthProblem }: RowShape,
): string | null {
  return row == null
    ? 'toInput returned no row'
    : row.length !== width
      ? lengthProblem(row.length)
      : isSparse(row)
        ? sparseProblem(row, width)
        : null;
}

export const isSparse = (row: Float32Array | ArrayLike<number> | SparseRow): row is SparseRow =>
  (row as SparseRow).indices !== undefined;

/** Why a sparse row is unusable, or null. */
function sparseProblem(row: SparseRow, width: number): string | null {
  if (row.indices.length !== row.values.length)
    return `sparse input has ${row.indices.length} indices but ${row.values.length} values`;
  for (let i = 0; i < row.indices.length; i++) {
    const k = row.indices[i]!;
    // (k | 0) === k: an integer in int32 range (NaN, fractions and huge values fail), as width is.
    if ((k | 0) !== k || k < 0 || k >= width) return `sparse input index ${k} is outside [0, ${width})`;
  }
  return null;
}

// The finiteness checks below add v·0 up: 0 for every finite v, NaN once any v is NaN or ±Infinity; on float32
// values (Math.fround), so a float64 value that overflows float32 (1e39) counts as Infinity.

/**
 * Writes a sparse row's nonzeros into `data` at `offset`, which must hold zeros there (a zeroed pool buffer, see
 * `clearSparse`). Returns whether every value is finite.
 */
export function scatter(row: SparseRow, data: Float32Array, offset: number): boolean {
  const { indices, values } = row;
  let check = 0;
  for (let i = 0; i < indices.length; i++) {
    // Not read back from `data`: a load after the store to a random spot of a 64 KB row costs more than fround.
    const v = Math.fround(values[i]!);
    data[offset + indices[i]!] = v;
    check += v * 0;
  }
  return check === 0;
}

/** Zeroes what `scatter` wrote for `rows`, written from row 0 of `data` on, so the buffer can be reused as zeroed. */
export function clearSparse(rows: SparseRow[], data: Float32Array, width: number): void {
  for (let r = 0; r < rows.length; r++) {
    const { indices } = rows[r]!;
    const offset = r * width;
    for (let i = 0; i < indices.length; i++) data[offset + indices[i]!] = 0;
  }
}

/** Copies a dense row into `data` at `offset`, checking finiteness in the same pass; returns whether all are finite. */
export function copyChecked(row: Float32Array, data: Float32Array, offset: number): boolean {
  const n = row.length;
  let a = 0;
  let b = 0;
  let i = 0;
  // Two sums: consecutive adds to one sum would wait on each other.
  for (; i + 1 < n; i += 2) {
    const x = row[i]!;
    const y = row[i + 1]!;
    data[offset + i] = x;
    data[offset + i + 1] = y;
    a += x * 0;
    b += y * 0;
  }
  if (i < n) {
    data[offset + i] = row[i]!;
    a += row[i]! * 0;
  }
  return a + b === 0;
}

export function densify(row: SparseRow, width: number): Float32Array {
  const dense = new Float32Array(width);
  scatter(row, dense, 0);
  return dense;
}
