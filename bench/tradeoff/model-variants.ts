/**
 * What a benchmark run covers: for every model id in the registry, the version in production (else the latest)
 * — taken back to its fp32 parent when that version is itself a quantized variant — plus that fp32 version's
 * quantized children (the latest per precision). Ids of kinds this version cannot run are skipped with a note.
 */
import { kindOf } from '../../models/held-out-prediction.ts';
import type { ModelEntry, ModelRegistry } from '../../models/registry/registry.ts';

export interface ModelVariants {
  id: string;
  /** fp32 first, then int8, fp16. */
  variants: ModelEntry[];
}

const PRECISION_ORDER = ['fp32', 'int8', 'fp16'];
const versionNumber = (v: string) => Number(v.slice(1));

export function modelVariants(reg: ModelRegistry, note: (message: string) => void = () => {}): ModelVariants[] {
  const ids = [...new Set(reg.list().map((m) => m.id))];
  const result: ModelVariants[] = [];
  for (const id of ids) {
    let base = reg.get(id);
    if (base.precision !== 'fp32' && base.parent)
      base = reg.lineage(id, base.version).find((e) => e.precision === 'fp32') ?? base;
    try {
      kindOf(base);
    } catch (error) {
      note(`skipping ${id}: ${(error as Error).message}`);
      continue;
    }
    const ref = `${base.id}@${base.version}`;
    const latestPerPrecision = new Map<string, ModelEntry>();
    for (const child of reg.list(id).filter((m) => m.parent === ref && m.precision !== 'fp32')) {
      const seen = latestPerPrecision.get(child.precision);
      if (!seen || versionNumber(child.version) > versionNumber(seen.version))
        latestPerPrecision.set(child.precision, child);
    }
    const variants = [base, ...latestPerPrecision.values()].sort(
      (a, b) => PRECISION_ORDER.indexOf(a.precision) - PRECISION_ORDER.indexOf(b.precision),
    );
    result.push({ id, variants });
  }
  return result;
}
