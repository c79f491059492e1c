// One thread of a parallel map stage (parallel-map.ts). Plain JavaScript on purpose: worker threads do not inherit
// the tsx loader when driftline starts through its register API, so this file registers it and then loads the
// TypeScript module that holds the per-record function.
//
// workerData: { module: file URL of the module, exportName }
// Message in:  { id, values: unknown[] }
// Message out: { id, results: ({ ok: value } | { error: reason })[] }, with the ArrayBuffers the results own
//              transferred (not copied) back.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const mod = await import(workerData.module);
const fn = mod[workerData.exportName];
if (typeof fn !== 'function') throw new Error(`${workerData.module} has no function export "${workerData.exportName}"`);

/** The same one-line reason the main thread would store (streams/stage.ts `reasonOf`). */
const reasonOf = (error) => (error instanceof Error ? error.message || error.name : String(error));

/** ArrayBuffers a result owns whole (not a slice of a shared pool), found up to three levels deep. */
function transferables(value, found, depth) {
  if (value === null || typeof value !== 'object' || depth > 3) return;
  if (ArrayBuffer.isView(value)) {
    const b = value.buffer;
    if (b instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === b.byteLength) found.add(b);
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) transferables(v, found, depth + 1);
}

parentPort.on('message', ({ id, values }) => {
  const results = [];
  const found = new Set();
  for (const value of values) {
    try {
      const ok = fn(value);
      transferables(ok, found, 0);
      results.push({ ok });
    } catch (error) {
      results.push({ error: reasonOf(error) });
    }
  }
  parentPort.postMessage({ id, results }, [...found]);
});
