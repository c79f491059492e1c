/**
 * The A vs B headline of a postings run: on labelled postings that Model B scored after its first promotion — so with
 * a version trained on data from before each posting's own time, never on the posting itself — how often A and B
 * were right. The rows are joined here rather than in SQL, so the same queries run on DuckDB and on ClickHouse 18.
 */
import type { Warehouse } from '../../connectors/warehouse/warehouse.ts';

export interface ModelBStory {
  /** The first promoted version and the event time it scores from. */
  firstVersion: string;
  inForceFrom: number;
  records: number;
  accuracyA: number;
  accuracyB: number;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function modelBStory(
  warehouse: Warehouse,
  runId: string,
  modelA = 'postings-a',
  modelB = 'postings-b',
): Promise<ModelBStory | null> {
  const promoted = await warehouse.query(
    `SELECT candidate_version, in_force_from FROM training_runs WHERE run_id = ${quote(runId)} AND promoted = 1 ` +
      `AND model_id = ${quote(modelB)}`,
  );
  if (promoted.length === 0) return null;
  const first = promoted.reduce((a, b) =>
    Number(b.in_force_from ?? Infinity) < Number(a.in_force_from ?? Infinity) ? b : a,
  );
  const versions = promoted.map((p) => quote(String(p.candidate_version))).join(', ');
  const labelled = `record_id IN (SELECT record_id FROM labels)`;
  const [b, a, truth] = await Promise.all([
    warehouse.query(
      `SELECT record_id, label FROM predictions WHERE model_id = ${quote(modelB)} AND model_version IN ` +
        `(${versions}) AND ${labelled}`,
    ),
    warehouse.query(`SELECT record_id, label FROM predictions WHERE model_id = ${quote(modelA)} AND ${labelled}`),
    warehouse.query(`SELECT record_id, label FROM labels`),
  ]);
  const labelOf = new Map(truth.map((t) => [String(t.record_id), Number(t.label)]));
  const aOf = new Map(a.map((p) => [String(p.record_id), Number(p.label)]));
  let records = 0;
  let rightA = 0;
  let rightB = 0;
  for (const p of b) {
    const id = String(p.record_id);
    const truthLabel = labelOf.get(id);
    const aLabel = aOf.get(id);
    if (truthLabel === undefined || aLabel === undefined) continue;
    records++;
    if (aLabel === truthLabel) rightA++;
    if (Number(p.label) === truthLabel) rightB++;
  }
  if (records === 0)
    return {
      firstVersion: String(first.candidate_version),
      inForceFrom: Number(first.in_force_from),
      records: 0,
      accuracyA: NaN,
      accuracyB: NaN,
    };
  return {
    firstVersion: String(first.candidate_version),
    inForceFrom: Number(first.in_force_from),
    records,
    accuracyA: rightA / records,
    accuracyB: rightB / records,
  };
}
