/**
 * A pipeline's options (`--config`: `{"pipelines": {"<name>": {...}}}`) checked against its typed interface before it
 * starts: an option the pipeline does not have is rejected by name, with the names it does have; a value of the
 * wrong type is rejected with the type it must be.
 */

/** Checks one option's value and returns it typed; throws `config option "<key>" must be …, got …` when it is not. */
export type OptionRule<T> = (value: unknown, key: string) => T;

/** A rule for every option of `O`, and no other: the interface and its checks cannot drift apart. */
export type OptionRules<O> = { readonly [K in keyof O]-?: OptionRule<Exclude<O[K], undefined>> };

/** `raw` (a --config section, or options given in code) as `O`, or an error naming the pipeline and the bad key. */
export function parseOptions<O>(pipeline: string, rules: OptionRules<O>, raw: unknown = {}): O {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(
      `pipeline "${pipeline}": options must be an object of option names to values, got ${JSON.stringify(raw)}`,
    );
  }
  const known = Object.keys(rules);
  const parsed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!Object.hasOwn(rules, key)) {
      throw new Error(
        `pipeline "${pipeline}" has no option "${key}"${closest(key, known)}; its options are ${known.join(', ')}`,
      );
    }
    try {
      parsed[key] = (rules as Record<string, OptionRule<unknown>>)[key]!(value, key);
    } catch (error) {
      throw new Error(`pipeline "${pipeline}": ${(error as Error).message}`);
    }
  }
  return parsed as O;
}

/** `rule(expected, test)`: a rule whose error says the value must be `expected`. */
export function rule<T>(expected: string, test: (value: unknown) => boolean): OptionRule<T> {
  return (value, key) => {
    if (!test(value)) throw new Error(`config option "${key}" must be ${expected}, got ${JSON.stringify(value)}`);
    return value as T;
  };
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const aNumber = rule<number>('a number', isNumber);
export const positiveNumber = rule<number>('a positive number', (v) => isNumber(v) && v > 0);
export const nonNegativeNumber = rule<number>('a number >= 0', (v) => isNumber(v) && v >= 0);
export const positiveInteger = rule<number>('a positive integer', (v) => isNumber(v) && Number.isInteger(v) && v > 0);
export const nonNegativeInteger = rule<number>('an integer >= 0', (v) => isNumber(v) && Number.isInteger(v) && v >= 0);
/** A share in (0, 1]: thresholds on probabilities and scores. */
export const shareOfOne = rule<number>('a number in (0, 1]', (v) => isNumber(v) && v > 0 && v <= 1);
export const aBoolean = rule<boolean>('true or false', (v) => typeof v === 'boolean');
export const aString = rule<string>('a non-empty string', (v) => typeof v === 'string' && v !== '');
export const nonEmptyStrings = rule<string[]>(
  'a non-empty array of non-empty strings',
  (v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s !== ''),
);

/** One of the given strings. */
export function oneOf<T extends string>(...values: T[]): OptionRule<T> {
  return rule<T>(values.map((v) => JSON.stringify(v)).join(' or '), (v) => values.includes(v as T));
}

/** ` (did you mean "windowDays"?)` for a key one or two edits from a known one, else nothing. */
function closest(key: string, known: string[]): string {
  const near = known.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return near ? ` (did you mean "${near}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}
