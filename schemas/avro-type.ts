/**
 * Type-level mapping from an Avro schema literal (declared `as const`) to the TypeScript type of
 * the values avsc reads and writes for it (avsc's default, unwrapped-union representation).
 *
 *   record            -> object with one property per field
 *   string            -> string
 *   int/long/float/double -> number   (NB: `long` is a JS number, exact only up to 2^53 - 1;
 *                                      avsc refuses to encode/decode anything larger)
 *   boolean           -> boolean
 *   bytes / fixed     -> Buffer
 *   null              -> null, so ['null', X] -> AvroType<X> | null
 *   array             -> AvroType<items>[]
 *   enum              -> union of the symbol string literals
 *   map               -> Record<string, AvroType<values>>
 *   { type: P, logicalType } on a primitive -> AvroType<P> (no logical-type decoding is configured)
 *
 * References to named types by name (e.g. `type: 'driftline.Foo'`) cannot be resolved at the type
 * level and map to `unknown`; the schemas here inline every named type instead.
 */

type Primitives = {
  null: null;
  boolean: boolean;
  int: number;
  long: number;
  float: number;
  double: number;
  bytes: Buffer;
  string: string;
};

type Simplify<T> = { [K in keyof T]: T[K] } & {};

interface FieldLike {
  readonly name: string;
  readonly type: unknown;
}

export type AvroType<S> = S extends keyof Primitives
  ? Primitives[S]
  : S extends string
    ? unknown // reference to a named type
    : S extends readonly (infer Branch)[]
      ? AvroType<Branch> // union: distributes over the branches
      : S extends { readonly type: 'record' | 'error'; readonly fields: readonly FieldLike[] }
        ? Simplify<{ [F in S['fields'][number] as F['name']]: AvroType<F['type']> }>
        : S extends { readonly type: 'enum'; readonly symbols: readonly (infer Sym)[] }
          ? Sym
          : S extends { readonly type: 'array'; readonly items: infer Items }
            ? AvroType<Items>[]
            : S extends { readonly type: 'map'; readonly values: infer Values }
              ? Record<string, AvroType<Values>>
              : S extends { readonly type: 'fixed' }
                ? Buffer
                : S extends { readonly type: infer Inner }
                  ? AvroType<Inner>
                  : never;
