/**
 * The index: what the warehouse holds (rows per table), the headline figures of each page, and the postings that
 * came in last (titles are scraped text: the page renders them as text).
 */
import { TABLE_NAMES } from '../../connectors/warehouse/tables.ts';
import { canonicalRows, num } from './canonical.ts';
import type { PageExport } from './page.ts';
import { postingHeading } from './posting-heading.ts';
import { latestRunCondition, sqlString } from '../../connectors/warehouse/warehouse-reader.ts';

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
    const [totals] = await reader.rows(
      `SELECT sum(labeled) AS labeled, sum(correct_a) AS correct_a, sum(correct_b) AS correct_b, count(*) AS ` +
        `windows FROM ${reader.from('model_comparison')} WHERE ${postings.where}`,
    );
    const labeled = num(totals?.labeled) ?? 0;
    const alerts = await reader.rows(
      `SELECT pipeline, kind, count(*) AS n FROM ${reader.from('drift_alerts')} GROUP BY pipeline, kind`,
    );
    const [bench] = await reader.rows(`SELECT count(*) AS n FROM ${reader.from('bench_runs')}`);
    const latest = await reader.rows(
      `SELECT id, title, company, description, source, posted_at FROM ${reader.from('postings')} ORDER BY ` +
        `posted_at DESC, id DESC LIMIT ${LATEST_POSTINGS}`,
    );
    const runs = [...(await reader.latestRuns()).values()];
    // What ran last, per pipeline: the headline's "what ran, when, anything needing attention".
    const lastRuns = [];
    for (const run of runs) {
      const ofRun = `run_id = ${sqlString(run.run_id)} AND pipeline = ${sqlString(run.pipeline)}`;
      const [row] = await reader.rows(
        `SELECT mode, ended_at, records_in, dead_letters FROM ${reader.from('pipeline_runs')} WHERE ${ofRun}`,
      );
      const [alerted] = await reader.rows(`SELECT count(*) AS n FROM ${reader.from('drift_alerts')} WHERE ${ofRun}`);
      lastRuns.push({
        pipeline: run.pipeline,
        run_id: run.run_id,
        mode: row?.mode ?? null,
        ended_at: num(row?.ended_at) ?? num(run.at),
        records_in: num(row?.records_in),
        dead_letters: num(row?.dead_letters),
        drift_alerts: num(alerted?.n) ?? 0,
      });
    }
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
        drift_alerts: canonicalRows(
          alerts.map((a) => ({ pipeline: a.pipeline, kind: a.kind, alerts: num(a.n) })),
          ['pipeline', 'kind'],
        ),
        bench_runs: num(bench?.n) ?? 0,
        last_runs: canonicalRows(lastRuns, ['pipeline']),
        latest_postings: canonicalRows(
          latest.map(({ description, ...p }) => ({ ...p, ...postingHeading({ ...p, description }) })),
          ['-posted_at', '-id'],
        ),
      },
    };
  },
};
