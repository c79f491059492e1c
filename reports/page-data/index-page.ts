/**
 * The index: what the warehouse holds (rows per table), the headline figures of each page, and the postings that
 * came in last (titles are scraped text: the page renders them as text).
 */
import { TABLE_NAMES } from '../../connectors/warehouse/tables.ts';
import { canonicalRows, num } from './canonical.ts';
import type { PageExport } from './page.ts';
import { latestRunCondition } from './warehouse-reader.ts';

const LATEST_POSTINGS = 10;

export const indexPage: PageExport = {
  name: 'index',
  tables: TABLE_NAMES,
  async export(reader) {
    const counts = [];
    for (const table of TABLE_NAMES) {
      const [row] = await reader.rows(`SELECT count(*) AS n FROM ${reader.from(table)}`);
      counts.push({ table, rows: num(row?.n) ?? 0 });
    }
    const postings = await latestRunCondition(reader, 'postings');
    const [totals] = await reader.rows(`SELECT sum(labeled) AS labeled, sum(correct_a) AS correct_a, sum(correct_b) AS correct_b, count(*) AS windows FROM ${reader.from('model_comparison')} WHERE ${postings.where}`);
    const labeled = num(totals?.labeled) ?? 0;
    const alerts = await reader.rows(`SELECT pipeline, kind, count(*) AS n FROM ${reader.from('drift_alerts')} GROUP BY pipeline, kind`);
    const [bench] = await reader.rows(`SELECT count(*) AS n FROM ${reader.from('bench_runs')}`);
    const latest = await reader.rows(`SELECT id, title, company, source, posted_at FROM ${reader.from('postings')} ORDER BY posted_at DESC, id DESC LIMIT ${LATEST_POSTINGS}`);
    const runs = [...(await reader.latestRuns()).values()];
    return {
      runs: canonicalRows(runs, ['pipeline']),
      data: {
        tables: counts,
        model_comparison: {
          windows: num(totals?.windows) ?? 0,
          labeled,
          accuracy_a: labeled > 0 ? (num(totals?.correct_a) ?? 0) / labeled : null,
          accuracy_b: labeled > 0 ? (num(totals?.correct_b) ?? 0) / labeled : null,
        },
        drift_alerts: canonicalRows(alerts.map((a) => ({ pipeline: a.pipeline, kind: a.kind, alerts: num(a.n) })), ['pipeline', 'kind']),
        bench_runs: num(bench?.n) ?? 0,
        latest_postings: canonicalRows(latest, ['-posted_at', '-id']),
      },
    };
  },
};
