/**
 * CSV cells safe to open in a spreadsheet. A text cell starting with `=`, `+`, `-`, `@`, tab or carriage return is
 * read as a formula by Excel, LibreOffice and Sheets (CSV injection): per OWASP it gets a leading `'` and is quoted,
 * so it shows as the text it is. Numbers stay as they are: `-3.5` read from a numeric column is data, not a formula.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: `text` quoted when it needs it, with a formula-leading text neutralised. */
export function csvField(text: string, kind: 'text' | 'number' = 'text'): string {
  if (kind === 'text' && FORMULA_START.test(text)) return quote(`'${text}`);
  return /[",\n\r]/.test(text) ? quote(text) : text;
}

const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
