/**
 * String literals in the page data's SQL, for both warehouses. Page-data queries are written in standard SQL: a
 * literal is `'…'` with `'` doubled and `\` an ordinary character, which is what DuckDB reads. ClickHouse reads `\` in
 * a literal as an escape (`'a\b'` is "a" and a backspace), so the ClickHouse reader doubles every backslash inside
 * literals before sending a query (`''` means a quote to both). Record ids are scraped and may hold either character.
 */

/** A standard SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Literals, quoted identifiers and comments, matched whole so a quote inside one is never taken for another. */
const TOKENS = /'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|--[^\n]*|\/\*[\s\S]*?\*\//g;

/** A standard-SQL query with its string literals in ClickHouse's form (backslashes doubled); nothing else changes. */
export function clickhouseStrings(sql: string): string {
  return sql.replace(TOKENS, (token) => (token.startsWith("'") ? token.replace(/\\/g, '\\\\') : token));
}
