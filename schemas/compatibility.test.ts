import avro from 'avsc';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkBackwardCompatible } from './compatibility.ts';
import { loadHistory } from './history.ts';
import { decode, schemaNames, schemas } from './registry.ts';

const base = {
  type: 'record',
  name: 'Thing',
  namespace: 'driftline.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'count', type: 'int' },
  ],
};
const withFields = (...fields: object[]) => ({ ...base, fields: [...base.fields, ...fields] });

describe('checkBackwardCompatible', () => {
  it('accepts an identical schema', () => {
    expect(checkBackwardCompatible(base, base)).toEqual({ compatible: true });
  });

  it('accepts adding a nullable field with default null', () => {
    expect(
      checkBackwardCompatible(base, withFields({ name: 'note', type: ['null', 'string'], default: null })),
    ).toEqual({
      compatible: true,
    });
  });

  it('accepts removing a field and promoting int -> long / double', () => {
    const removed = { ...base, fields: [base.fields[0]] };
    expect(checkBackwardCompatible(base, removed).compatible).toBe(true);
    const promoted = { ...base, fields: [base.fields[0], { name: 'count', type: 'double' }] };
    expect(checkBackwardCompatible(base, promoted).compatible).toBe(true);
  });

  it('rejects adding a field without a default', () => {
    const result = checkBackwardCompatible(base, withFields({ name: 'note', type: 'string' }));
    expect(result.compatible).toBe(false);
    expect(!result.compatible && result.reason).toMatch(/note/);
  });

  it('rejects changing a field type', () => {
    const changed = { ...base, fields: [base.fields[0], { name: 'count', type: 'string' }] };
    expect(checkBackwardCompatible(base, changed).compatible).toBe(false);
    // Narrowing is not backward compatible either: a long reader cannot be an int.
    const narrowed = { ...base, fields: [base.fields[0], { name: 'count', type: 'long' }] };
    expect(checkBackwardCompatible(narrowed, base).compatible).toBe(false);
  });

  it('rejects making a nullable field required', () => {
    const old = withFields({ name: 'note', type: ['null', 'string'], default: null });
    const required = withFields({ name: 'note', type: 'string' });
    expect(checkBackwardCompatible(old, required).compatible).toBe(false);
  });

  it('rejects removing an enum symbol old data may use', () => {
    const e = (symbols: string[]) => withFields({ name: 'kind', type: { type: 'enum', name: 'Kind', symbols } });
    expect(checkBackwardCompatible(e(['a', 'b']), e(['a', 'b', 'c'])).compatible).toBe(true);
    expect(checkBackwardCompatible(e(['a', 'b', 'c']), e(['a', 'b'])).compatible).toBe(false);
  });

  it('reports an invalid schema instead of throwing', () => {
    const result = checkBackwardCompatible(base, { type: 'record', name: 'X', fields: [{ name: 'a', type: 'nope' }] });
    expect(result.compatible).toBe(false);
  });
});

// Guards schema evolution in CI: every current schema must read data written with every committed
// historical version. After a compatible change, snapshot it: `npx tsx schemas/snapshot-history.ts`.
describe('current schemas vs committed history (schemas/history/*.json)', () => {
  for (const name of schemaNames) {
    describe(name, () => {
      const history = loadHistory(name);

      it('has at least a v1 snapshot', () => {
        expect(history.map((h) => h.version)[0]).toBe(1);
      });

      it('latest snapshot matches the current schema (after a change: `npx tsx schemas/snapshot-history.ts`)', () => {
        const current = JSON.parse(JSON.stringify(schemas[name].schema)) as object;
        expect(isDeepStrictEqual(history.at(-1)?.schema, current)).toBe(true);
      });

      for (const snap of history) {
        it(`can read data written with v${snap.version}`, () => {
          const result = checkBackwardCompatible(snap.schema, schemas[name].type);
          expect(result, `${name} v${snap.version}: ${!result.compatible ? result.reason : ''}`).toEqual({
            compatible: true,
          });
          const writer = avro.Type.forSchema(snap.schema as avro.schema.RecordType);
          for (let i = 0; i < 10; i++) {
            const written = writer.random();
            const read = decode(name, writer.toBuffer(written), writer);
            expect(schemas[name].type.isValid(read)).toBe(true);
          }
        });
      }
    });
  }
});
