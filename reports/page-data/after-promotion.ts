/**
 * Model A vs Model B on postings B could not have trained on: labelled postings whose event time comes after B's
 * first promotion in the run, each scored by the B version in force at its time. A version in force from T was
 * fine-tuned at T on examples usable by then, so a posting from after T was never in its training data.
 *
 * Which version scored a posting follows from the run's promotions (`in_force_from`, event time) and the posting's
 * event time (`posted_at`), so the `predictions` table, which has no run id, is read for this run only. The counts
 * are made in the warehouse; SQL sticks to what ClickHouse 18.16 and DuckDB both run (no joins: correctness is
 * `record_id/label` found among the labels' `record_id/label`).
 */
import { CLASSES } from '../../models/postings/train.ts';
import { canonicalRows, num } from './canonical.ts';
import { sqlString, type Row, type WarehouseReader } from '../../connectors/warehouse/warehouse-reader.ts';

/** A promotion of Model B in event time. */
export interface Promotion {
  version: string;
  trigger_event_time: number | null;
  in_force_from: number;
}

/** Postings listed where A is wrong and B right (the most confident mistakes of A first). */
const LISTED = 25;

const intLiteral = (ms: number) => {
  if (!Number.isSafeInteger(ms)) throw new Error(`page data: not an epoch-ms integer: ${ms}`);
  return String(ms);
};

/**
 * SQL condition on `predictions`: B's outputs made by the version in force at each posting's event time, from the
 * first promotion on (the copy of A that B starts as is left out).
 */
export function inForceCondition(reader: WarehouseReader, modelB: string, promotions: readonly Promotion[]): string {
  const sorted = [...promotions].sort((p, q) => p.in_force_from - q.in_force_from);
  const spans = sorted.map((p, i) => {
    const next = sorted[i + 1];
    const until = next ? ` AND posted_at < ${intLiteral(next.in_force_from)}` : '';
    return (
      `(model_version = ${sqlString(p.version)} AND record_id IN (SELECT id FROM ${reader.from('postings')} ` +
      `WHERE posted_at >= ${intLiteral(p.in_force_from)}${until}))`
    );
  });
  return `model_id = ${sqlString(modelB)} AND (${spans.join(' OR ')})`;
}

/** `0 → "software engineering"`. */
export const className = (label: number | null) =>
  label === null ? null : (CLASSES[label]?.replace(/_/g, ' ') ?? String(label));

/** A and B's counts on the same postings → accuracies and the four outcomes (`aWrongBRight` counted apart). */
export function outcomes(records: number, correctA: number, correctB: number, aWrongBRight: number) {
  const bothRight = correctB - aWrongBRight;
  const aRightBWrong = correctA - bothRight;
  return {
    records,
    correct_a: correctA,
    correct_b: correctB,
    accuracy_a: records > 0 ? correctA / records : null,
    accuracy_b: records > 0 ? correctB / records : null,
    outcomes: {
      both_right: bothRight,
      a_wrong_b_right: aWrongBRight,
      a_right_b_wrong: aRightBWrong,
      both_wrong: records - bothRight - aWrongBRight - aRightBWrong,
    },
  };
}

export async function afterFirstPromotion(
  reader: WarehouseReader,
  models: { a: string; aVersions: readonly string[]; b: string },
  promotions: readonly Promotion[],
) {
  if (promotions.length === 0 || models.aVersions.length === 0) return null;
  const predictions = reader.from('predictions');
  const labels = reader.from('labels');
  const byB = inForceCondition(reader, models.b, promotions);
  const byA = `model_id = ${sqlString(models.a)} AND model_version IN (${models.aVersions.map(sqlString).join(', ')})`;
  const labelled = `record_id IN (SELECT record_id FROM ${labels})`;
  const truth = `concat(record_id, '/', CAST(label AS String))`;
  const right = `${truth} IN (SELECT ${truth} FROM ${labels})`;
  const wrong = `${truth} NOT IN (SELECT ${truth} FROM ${labels})`;
  const scoredBy = (condition: string) => `record_id IN (SELECT record_id FROM ${predictions} WHERE ${condition})`;

  // Both models on the same postings: those B scored with an in-force version that A scored too.
  const counts = await reader.rows(
    `SELECT model_id, model_version, count(*) AS records, sum(CASE WHEN ${right} THEN 1 ELSE 0 END) AS correct ` +
      `FROM ${predictions} ` +
      `WHERE ${labelled} AND ((${byB} AND ${scoredBy(byA)}) OR (${byA} AND ${scoredBy(byB)})) GROUP BY model_id, ` +
      `model_version`,
  );
  const total = (model: string, column: string) =>
    counts.filter((c) => c.model_id === model).reduce((s, c) => s + (num(c[column]) ?? 0), 0);
  const byVersion = canonicalRows(
    counts
      .filter((c) => c.model_id === models.b)
      .map((c) => ({ version: String(c.model_version), records: num(c.records), correct: num(c.correct) })),
    ['version'],
  );

  const split = await reader.rows(
    `SELECT record_id, model_id, model_version, label, confidence FROM ${predictions} WHERE ${labelled} AND (` +
      `(${byB} AND ${right} AND ${scoredBy(`${byA} AND ${wrong}`)}) OR (${byA} AND ${wrong} ` +
      `AND ${scoredBy(`${byB} AND ${right}`)}))`,
  );
  const pairs = new Map<string, { a?: Row; b?: Row }>();
  for (const p of split) {
    const pair = pairs.get(String(p.record_id)) ?? {};
    pair[p.model_id === models.b ? 'b' : 'a'] = p;
    pairs.set(String(p.record_id), pair);
  }
  const ids = [...pairs.keys()];
  const truthOf = new Map<string, Row>();
  const postingOf = new Map<string, Row>();
  for (let i = 0; i < ids.length; i += 500) {
    const list = ids
      .slice(i, i + 500)
      .map(sqlString)
      .join(', ');
    for (const l of await reader.rows(
      `SELECT record_id, label, label_name FROM ${labels} WHERE record_id IN (${list})`,
    ))
      truthOf.set(String(l.record_id), l);
    for (const p of await reader.rows(
      `SELECT id, title, company, posted_at FROM ${reader.from('postings')} WHERE id IN (${list})`,
    ))
      postingOf.set(String(p.id), p);
  }
  const listed = [...pairs.entries()]
    .filter(([id, pair]) => pair.a && pair.b && truthOf.has(id) && postingOf.has(id))
    .map(([id, { a, b }]) => {
      const [t, p] = [truthOf.get(id)!, postingOf.get(id)!];
      return {
        record_id: id,
        title: p.title,
        company: p.company ?? null,
        posted_at: num(p.posted_at),
        truth: className(num(t.label)),
        role: t.label_name ?? null,
        a_class: className(num(a!.label)),
        a_confidence: num(a!.confidence),
        b_class: className(num(b!.label)),
        b_confidence: num(b!.confidence),
        b_version: String(b!.model_version),
      };
    });

  const first = [...promotions].sort((p, q) => p.in_force_from - q.in_force_from)[0]!;
  return {
    first_promotion: first,
    ...outcomes(total(models.b, 'records'), total(models.a, 'correct'), total(models.b, 'correct'), listed.length),
    by_version: byVersion,
    a_fails_b_succeeds: canonicalRows(listed, ['-a_confidence', 'record_id']).slice(0, LISTED),
  };
}
