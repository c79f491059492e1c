export interface Salary {
  min: number | null;
  max: number | null;
  currency: string | null;
  period: string | null;
}

export const NO_SALARY: Salary = { min: null, max: null, currency: null, period: null };

/** The JobPosting salary fields of a parsed salary. */
export const salaryFields = (salary: Salary) => ({
  salary_min: salary.min,
  salary_max: salary.max,
  salary_currency: salary.currency,
  salary_period: salary.period,
});

const PERIODS: Record<string, string> = {
  year: 'year',
  yr: 'year',
  years: 'year',
  yearly: 'year',
  annual: 'year',
  annually: 'year',
  annum: 'year',
  'per year': 'year',
  month: 'month',
  mo: 'month',
  monthly: 'month',
  week: 'week',
  wk: 'week',
  weekly: 'week',
  day: 'day',
  daily: 'day',
  hour: 'hour',
  hr: 'hour',
  hourly: 'hour',
};

/**
 * Normalizes a pay period spelling ("yr", "Hourly", "YEARLY") to year|month|week|day|hour; unknown → lowercased as
 * given.
 */
export function normalizePeriod(text: string | null): string | null {
  if (text === null) return null;
  const t = text
    .trim()
    .toLowerCase()
    .replace(/^per\s+/, '');
  if (t === '') return null;
  return PERIODS[t] ?? t;
}

const SYMBOLS: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY', '₹': 'INR' };

// One amount of a range: an optional currency symbol, the number, an optional K or M.
const SALARY_AMOUNT = String.raw`([$€£¥₹])?\s*(\d+(?:\.\d+)?)\s*([KkMm])?`;
const SALARY_RANGE = new RegExp(
  String.raw`^(?:Employer Provided Salary:\s*)?${SALARY_AMOUNT}\s*(?:-|–|to)\s*${SALARY_AMOUNT}\s*` +
    String.raw`(?:Per\s+(Hour|Day|Week|Month|Year))?\s*(?:\((?:Glassdoor|Employer) est\.\))?$`,
  'i',
);

/**
 * Glassdoor "Salary Estimate": "$111K-$181K (Glassdoor est.)", "$25-$30 Per Hour(Glassdoor est.)",
 * "Employer Provided Salary:$25-$28 Per Hour", "$80K-$90K(Employer est.)". "-1" (and blank) means missing.
 * Amounts are in currency units (K multiplied out); the period is 'hour' when stated, otherwise 'year'.
 * Throws on text that is present but not a salary range.
 */
export function parseSalaryEstimate(text: string | null | undefined): Salary {
  if (text === null || text === undefined) return NO_SALARY;
  const t = text.trim();
  if (t === '' || t === '-1') return NO_SALARY;
  const m = SALARY_RANGE.exec(t);
  if (!m) throw new Error(`unparseable salary estimate ${JSON.stringify(t.slice(0, 80))}`);
  const scale = (s: string | undefined) => (s === undefined ? 1 : s.toLowerCase() === 'k' ? 1_000 : 1_000_000);
  const min = Number(m[2]) * scale(m[3] ?? m[6]);
  const max = Number(m[5]) * scale(m[6] ?? m[3]);
  const symbol = m[1] ?? m[4];
  return {
    min,
    max,
    currency: symbol === undefined ? null : SYMBOLS[symbol]!,
    period: normalizePeriod(m[7] ?? 'year'),
  };
}
