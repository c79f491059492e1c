/** Synthetic rows shaped like real ones, for tests and benchmarks. */
import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { Row } from './tables.ts';

const SKILLS = ['python', 'typescript', 'sql', 'kafka', 'spark', 'pytorch', 'onnx', 'kubernetes', 'go', 'rust'];
const SENIORITY = ['junior', 'mid', 'senior', 'staff', null];
const DESCRIPTION =
  'We are looking for an engineer to build and operate streaming ML pipelines: ingest events from Kafka, ' +
  'featurise them, serve ONNX models with low latency and keep the warehouse tables fresh. ';

/** A `postings` row, about 500 bytes of JSON. */
export function postingRow(n: number, version = 1): Row {
  const posted = 1_700_000_000_000 + n * 1_000;
  return {
    id: `posting-${n}`,
    version,
    source: n % 2 ? 'indeed' : 'linkedin',
    title: `Machine Learning Engineer #${n % 997}`,
    company: n % 13 === 0 ? null : `Company ${n % 251}`,
    location: n % 7 === 0 ? null : 'Berlin, DE',
    description: `${DESCRIPTION}Reference ${n}.`,
    skills: [SKILLS[n % 10]!, SKILLS[(n * 7 + 3) % 10]!, SKILLS[(n * 3 + 1) % 10]!],
    salary_min: n % 5 === 0 ? null : 60_000 + (n % 40) * 1_000,
    salary_max: n % 5 === 0 ? null : 90_000 + (n % 40) * 1_500,
    salary_currency: n % 5 === 0 ? null : 'EUR',
    salary_period: n % 5 === 0 ? null : 'year',
    seniority: SENIORITY[n % 5]!,
    employment_type: 'full_time',
    posted_at: posted,
    scraped_at: posted + 3_600_000,
    url: `https://jobs.example.com/p/${n}`,
    label: n % 3 === 0 ? 1 : null,
  };
}

/** Records whose value is the row itself (toRow = r => r.value). */
export function rowRecords(rows: Row[], topic = 'postings', firstOffset = 0): StreamRecord<Row>[] {
  return rows.map((value, i) => ({
    key: String(value.id),
    value,
    eventTime: 1_700_000_000_000 + i,
    headers: {},
    position: { topic, partition: 0, offset: firstOffset + i },
  }));
}
