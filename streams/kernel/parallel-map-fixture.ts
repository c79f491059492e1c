/** Pure per-record functions for parallel-map.test.ts, loaded by the map threads. */

/** Squares a number; rejects odd ones with a reason (a dead letter). */
export function squareEven(value: number): number {
  if (value % 2 !== 0) throw new Error(`odd value ${value}`);
  return value * value;
}

/** A binary result: the value's bytes reversed, in an array the thread owns (transferred back). */
export function reversedBytes(value: Uint8Array): Uint8Array {
  return Uint8Array.from(value).reverse();
}
