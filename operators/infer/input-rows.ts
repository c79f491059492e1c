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
    // Lengths are checked here; finiteness in the inference thread (an O(rows × features) scan), except for
    // chunks of sparse rows, whose few values runChunk checks itself.
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
    if (!Number.isInteger(k) || k < 0 || k >= width) return `sparse input index ${k} is outside [0, ${width})`;
  }
  return null;
}

/** Every value finite as a float32 (1e39 is a finite number but Infinity once stored in the batch). */
export function finiteValues(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(Math.fround(values[i]!))) return false;
  return true;
}

/** Writes a sparse row into `data` at `offset`: zeros, then its values (the pool's buffers are not zeroed). */
export function scatter(row: SparseRow, data: Float32Array, offset: number, width: number): void {
  data.fill(0, offset, offset + width);
  for (let i = 0; i < row.indices.length; i++) data[offset + row.indices[i]!] = row.values[i]!;
}

export function densify(row: SparseRow, width: number): Float32Array {
  const dense = new Float32Array(width);
  scatter(row, dense, 0, width);
  return dense;
}
