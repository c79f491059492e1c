/**
 * Text every store and transport can hold. A JS string may contain lone UTF-16 surrogates (JSON's "\ud800" escape
 * makes one), which have no UTF-8 form: ClickHouse refuses them, DuckDB and Kafka silently turn them into U+FFFD.
 */

type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/** True when the string has no lone surrogate (Node 20's String.prototype.isWellFormed; ES2024). */
export const isWellFormed = (text: string): boolean => (text as WellFormedString).isWellFormed();

/** The string with each lone surrogate replaced by U+FFFD. */
export const toWellFormed = (text: string): string => (text as WellFormedString).toWellFormed();

/**
 * Text for a person to read beside stored data (a dead letter's reason, key or stage): well-formed, NULs shown as
 * `\0`, and cut to `maxChars` with the original length said, so a reason can never be bigger than the row.
 */
export function safeText(text: string, maxChars: number): string {
  let t = text.includes('\0') ? text.replaceAll('\0', '\\0') : text;
  if (t.length > maxChars) t = `${t.slice(0, maxChars)}… (${text.length.toLocaleString('en-US')} chars)`;
  return toWellFormed(t);
}
