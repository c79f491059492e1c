/**
 * Inside a measurement process: receives one `MeasureJob`, measures it (measure-variant.ts), sends back
 * `{ result }` or `{ error }` and exits. One fresh process per variant × backend × threads keeps the memory
 * figures honest (RSS before/after loading one model, and a peak no earlier configuration inflated: WASM memory and
 * malloc arenas never shrink) and keeps one configuration's runtime state out of the next one's timings.
 */
import { ModelRegistry } from '../../models/registry/registry.ts';
import { heldOutFor, kindOf } from '../../models/held-out-prediction.ts';
import { accuracy } from '../../models/classification-metrics.ts';
import type { HeldOut } from '../../models/model-contract.ts';
import { estimateMeter, raplMeter } from './energy-meter.ts';
import { findPackageDomains } from './rapl.ts';
import { measureVariant } from './measure-variant.ts';
import type { MeasureJob, MeasureReply } from './measure-in-process.ts';

/** Held-out accuracy of a session other than `models eval`'s (tfjs-wasm): same rows, same metric. */
async function sessionAccuracy(
  run: (data: Float32Array, rows: number) => Promise<Float32Array>,
  heldOut: HeldOut,
  classes: number,
): Promise<number> {
  const rows = heldOut.shape[0]!;
  const width = heldOut.inputs.length / rows;
  const probabilities = new Float32Array(rows * classes);
  for (let first = 0; first < rows; first += 256) {
    const m = Math.min(256, rows - first);
    probabilities.set(await run(heldOut.inputs.subarray(first * width, (first + m) * width), m), first * classes);
  }
  return accuracy(probabilities, heldOut.labels, classes);
}

async function measure(job: MeasureJob): Promise<MeasureReply> {
  const reg = new ModelRegistry({ manifestPath: job.manifestPath, home: job.home });
  const { entry, bytes } = reg.readModel(job.modelId, job.modelVersion);
  const heldOut = heldOutFor(reg, entry);
  const energy =
    job.energy.method === 'rapl'
      ? raplMeter(findPackageDomains(job.energy.powercapRoot))
      : estimateMeter({ wattsPerCore: job.energy.wattsPerCore!, source: '' });
  let acc = job.accuracy;
  const measured = await measureVariant({
    entry,
    bytes,
    heldOut,
    backend: job.backend,
    threads: job.threads,
    plan: job.plan,
    energy,
    result: {
      runId: job.runId,
      writtenAt: job.writtenAt,
      model: { id: entry.id, version: entry.version, precision: entry.precision, bytes: bytes.byteLength },
      energyMethod: energy.method,
      accuracy: acc,
      heldOutRows: heldOut.labels.length,
    },
    afterScenarios:
      acc === null
        ? async (run) => {
            acc = await sessionAccuracy(run, heldOut, kindOf(entry).classes);
          }
        : undefined,
  });
  return { ...measured, rows: measured.rows.map((r) => ({ ...r, accuracy: acc })), accuracy: acc };
}

process.once('message', (job: MeasureJob) => {
  measure(job).then(
    (result) => process.send!({ result }, () => process.exit(0)),
    (error: unknown) =>
      process.send!({ error: error instanceof Error ? error.message : String(error) }, () => process.exit(0)),
  );
});
