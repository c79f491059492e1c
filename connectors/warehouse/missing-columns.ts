/**
 * Columns a table gained after a warehouse created it. `CREATE TABLE IF NOT EXISTS` leaves an existing table as it
 * is, so `ensureTables` compares the stored columns with the definition and adds what is missing. Only nullable
 * columns can be added that way (rows written before read null); a missing column that cannot be null is an error to
 * resolve by hand rather than a default made up for old rows. ClickHouse 18.16 has no `ADD COLUMN IF NOT EXISTS`,
 * hence the comparison instead of a blind ALTER.
 */
import type { ColumnDef, TableDef } from './tables.ts';

/** The columns of `def` not among `existing`; throws when one of them cannot be null. */
export function missingColumns(def: TableDef, existing: Iterable<string>): ColumnDef[] {
  const have = new Set(existing);
  const missing = def.columns.filter((c) => !have.has(c.name));
  const required = missing.filter((c) => !c.type.startsWith('nullable_'));
  if (required.length > 0) {
    const names = required.map((c) => `${c.name} (${c.type})`).join(', ');
    throw new Error(
      `warehouse table ${def.name} was created without ${names}, which cannot be null for the rows already in it: ` +
        `migrate or drop the table`,
    );
  }
  return missing;
}
