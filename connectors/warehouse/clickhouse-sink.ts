/**
 * ClickHouse sink: JSONEachRow inserts of big batches, at-least-once.
 *
 * - Durable: `write` resolves once ClickHouse has acknowledged the INSERT (the HTTP response arrives after the
 *   data is written to a part).
 * - ClickHouse down: transient failures (connection refused/reset, timeouts, HTTP 5xx from a proxy, overload codes
 *   like TOO_MANY_PARTS or MEMORY_LIMIT_EXCEEDED) are retried with exponential backoff for up to
 *   `retry.maxTotalMs` (default 5 min). Meanwhile `write` does not resolve, so the pipeline waits (backpressure).
 * - A bad row never blocks or silently drops its batch: when ClickHouse rejects an INSERT for its data (parse or
 *   type error) the batch is split in halves, recursively, until the bad rows are isolated; good rows are
 *   inserted and the bad ones are handed to `onRejected` / the dead-letter writer with ClickHouse's own error.
 *   Without either, `write` throws after inserting the good rows (never a silent drop).
 * - Strict: `input_format_skip_unknown_fields` stays off, so a row with an unknown column is rejected, not trimmed.
 * - Errors that are about the table or the connection settings rather than the rows (unknown table/column/database,
 *   auth, readonly, syntax) are thrown: splitting cannot help and dead-lettering everything would be wrong.
 *
 * Re-inserting rows is safe: tables are ReplacingMergeTree(version) ORDER BY id (see clickhouse-ddl.ts), so a
 * retried INSERT whose first attempt did land only produces duplicates that FINAL / merges collapse. A failed
 * INSERT of ≤ max_insert_block_size (1,048,576) rows writes nothing, so halving does not duplicate either.
 */
import { Readable } from 'node:stream';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import { DEFAULT_SINK_MAX_WAIT_MS, type Sink } from '../../streams/kernel/sink.ts';
import { chIdent } from './clickhouse-ddl.ts';
import { deadLetterRow } from './dead-letter-row.ts';
import { type TableDef, type TableName, type Row, tableDef } from './tables.ts';
import { rowValidator } from './validate.ts';
import { encodeJsonRows } from './clickhouse-json-rows.ts';
import { type RejectionHandling, routeRejected } from './rejected.ts';

export interface RetryOptions {
  /** Give up (write rejects) after retrying transient failures this long. Default 300,000 ms. */
  maxTotalMs?: number;
  /** First backoff delay; doubles each attempt. Default 100 ms. */
  initialDelayMs?: number;
  /** Cap on one backoff delay. Default 5,000 ms. */
  maxDelayMs?: number;
  /** Called before each retry sleep (logging, metrics). */
  onRetry?: (error: Error, attempt: number, delayMs: number) => void;
}

export type { RejectedRow } from './rejected.ts';

export interface ClickHouseSinkOptions<T> extends RejectionHandling<T> {
  url?: string;
  database?: string;
  username?: string;
  password?: string;
  /** Use this client instead of creating one (it is then not closed by the sink). */
  client?: ClickHouseClient;
  name?: string;
  /** Default 10,000. */
  batchRecords?: number;
  /** Default: the runtime's sink default (DEFAULT_SINK_MAX_WAIT_MS, 1,000 ms). */
  maxWaitMs?: number;
  /** Default 1. */
  concurrency?: number;
  retry?: RetryOptions;
  /** Per-request timeout (default 60 s); a timeout counts as transient. */
  requestTimeoutMs?: number;
  /**
   * Check rows against the table definition before sending (default true): catches values 18.16 would silently
   * coerce (numeric strings into Float64, 300 into UInt8 → 44). With false, only ClickHouse judges the rows.
   */
  validate?: boolean;
}

export type ErrorClass = 'transient' | 'rows' | 'fatal';

/** ClickHouse error codes that mean "try again later". */
const TRANSIENT_CODES = new Set([
  3, // UNEXPECTED_END_OF_FILE (connection cut mid-request)
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY (replica lost ZooKeeper)
  252, // TOO_MANY_PARTS
  285, // TOO_FEW_LIVE_REPLICAS
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
  1000, // POCO_EXCEPTION
]);
/** ClickHouse error codes about the table/settings/auth, not the rows: splitting cannot help. */
const FATAL_CODES = new Set([16, 47, 60, 62, 73, 81, 164, 192, 193, 194, 195, 291, 497, 516]);
const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/**
 * ClickHouse error code in an error message. 18.16 formats errors as "Code: 27, e.displayText() = DB::Exception: ..."
 * which the client's own parser does not recognise (its `code` stays undefined), so parse the message.
 */
export function clickhouseErrorCode(error: unknown): number | undefined {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  const match = typeof e?.message === 'string' ? /Code: (\d+)[.,]/.exec(e.message) : null;
  return match ? Number(match[1]) : undefined;
}

export function classifyClickHouseError(error: unknown): ErrorClass {
  const code = clickhouseErrorCode(error);
  if (code !== undefined) {
    if (TRANSIENT_CODES.has(code)) return 'transient';
    if (FATAL_CODES.has(code)) return 'fatal';
    return 'rows';
  }
  const e = error as { code?: unknown; message?: unknown; name?: unknown };
  if (typeof e?.code === 'string' && NETWORK_ERRNOS.has(e.code)) return 'transient';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (/timeout|socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|network|aborted/i.test(message)) return 'transient';
  // No ClickHouse exception in the body: an HTTP error from something in between (proxy 502/503/504 page, LB)
  // or the server restarting. Treat as transient: the deadline bounds it.
  return 'transient';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Inserts pre-serialised JSONEachRow lines into one table with retries and bad-row isolation. */
export class ClickHouseInserter {
  readonly client: ClickHouseClient;
  private readonly ownsClient: boolean;
  private readonly retry: Required<Omit<RetryOptions, 'onRetry'>> & Pick<RetryOptions, 'onRetry'>;
  private readonly insertSql: string;

  constructor(
    readonly table: string,
    options: Pick<
      ClickHouseSinkOptions<unknown>,
      'url' | 'database' | 'username' | 'password' | 'client' | 'retry' | 'requestTimeoutMs'
    >,
  ) {
    this.ownsClient = !options.client;
    this.client = options.client ?? createClickHouseClient(options);
    this.retry = {
      maxTotalMs: options.retry?.maxTotalMs ?? 300_000,
      initialDelayMs: options.retry?.initialDelayMs ?? 100,
      maxDelayMs: options.retry?.maxDelayMs ?? 5_000,
      onRetry: options.retry?.onRetry,
    };
    const target = `${options.database ? `${chIdent(options.database)}.` : ''}${chIdent(table)}`;
    this.insertSql = `INSERT INTO ${target} FORMAT JSONEachRow`;
  }

  /**
   * One INSERT of these lines; no retries. The body goes as strings, as the raw client sends it: the socket encodes
   * them once, where a Buffer copy of a 5 MB batch cost a copy and, being external memory, full garbage collections.
   */
  async insertOnce(lines: string[]): Promise<void> {
    const result = await this.client.exec({
      query: this.insertSql,
      values: Readable.from([lines.join('\n'), '\n'], { objectMode: false }),
      clickhouse_settings: { input_format_skip_unknown_fields: 0 },
    });
    // The response body of an INSERT is empty; drain it so the keep-alive socket is reused.
    for await (const _ of result.stream) void _;
  }

  /** One INSERT, retrying transient failures with exponential backoff until retry.maxTotalMs. */
  async insertRetrying(lines: string[]): Promise<void> {
    const started = Date.now();
    let delay = this.retry.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.insertOnce(lines);
      } catch (error) {
        if (classifyClickHouseError(error) !== 'transient') throw error;
        const elapsed = Date.now() - started;
        if (elapsed + delay > this.retry.maxTotalMs) {
          throw new Error(
            `ClickHouse insert into ${this.table} still failing after ${elapsed} ms (${attempt} ` +
              `attempts): ${(error as Error).message}`,
            { cause: error },
          );
        }
        this.retry.onRetry?.(error as Error, attempt, delay);
        await sleep(delay * (0.8 + Math.random() * 0.4));
        delay = Math.min(delay * 2, this.retry.maxDelayMs);
      }
    }
  }

  /**
   * Inserts every line that ClickHouse accepts; returns the indexes of the ones it rejects, with its error.
   * Halves the batch recursively on a row-level error. Throws on fatal errors and on exhausted retries.
   */
  async insertIsolating(lines: string[]): Promise<{ index: number; reason: string }[]> {
    const rejected: { index: number; reason: string }[] = [];
    const go = async (from: number, to: number): Promise<void> => {
      if (from >= to) return;
      try {
        await this.insertRetrying(from === 0 && to === lines.length ? lines : lines.slice(from, to));
      } catch (error) {
        if (classifyClickHouseError(error) !== 'rows') throw error;
        if (to - from === 1) {
          rejected.push({ index: from, reason: cleanMessage((error as Error).message) });
          return;
        }
        const mid = from + Math.ceil((to - from) / 2);
        await go(from, mid);
        await go(mid, to);
      }
    };
    await go(0, lines.length);
    return rejected;
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }
}

/** 18.16 appends ", e.what() = DB::Exception" and newlines; keep the useful part. */
const cleanMessage = (message: string) => message.replace(/\s*,\s*e\.what\(\) = DB::Exception\s*$/, '').trim();

export function createClickHouseClient(options: {
  url?: string;
  database?: string;
  username?: string;
  password?: string;
  requestTimeoutMs?: number;
}): ClickHouseClient {
  return createClient({
    url: options.url ?? 'http://127.0.0.1:8123', // CLICKHOUSE_URL is read in config/settings.ts and passed in
    database: options.database,
    username: options.username,
    password: options.password,
    request_timeout: options.requestTimeoutMs ?? 60_000,
    // The client logs every failed request at ERROR; retries and isolation make those expected. We report them.
    log: { level: ClickHouseLogLevel.OFF },
  });
}

/** A Sink that writes `toRow(record)` rows into a ClickHouse table. */
export function clickhouseSink<T>(
  table: TableName | TableDef,
  toRow: (record: StreamRecord<T>) => Row,
  options: ClickHouseSinkOptions<T> = {},
): Sink<T> {
  const def = tableDef(table);
  const inserter = new ClickHouseInserter(def.name, options);
  const deadLetterInserter =
    options.deadLetters === 'table'
      ? new ClickHouseInserter('dead_letters', { ...options, client: inserter.client })
      : undefined;
  const stage = options.stage ?? `clickhouse:${def.name}`;
  const validate = options.validate === false ? undefined : rowValidator(def);

  return {
    name: options.name ?? `clickhouse:${def.name}`,
    batchRecords: options.batchRecords ?? 10_000,
    maxWaitMs: options.maxWaitMs ?? DEFAULT_SINK_MAX_WAIT_MS,
    concurrency: options.concurrency ?? 1,
    async write(records, reject) {
      if (records.length === 0) return;
      const { lines, lineRecord, rows, rejected } = encodeJsonRows(records, toRow, validate);
      const bad = await inserter.insertIsolating(lines);
      for (const { index, reason } of bad)
        rejected.push({ record: records[lineRecord[index]!]!, row: rows[index], reason });
      await routeRejected(rejected, options, {
        table: `ClickHouse table ${def.name}`,
        stage,
        batchSize: records.length,
        reject,
        writeDeadLetterTable: async (letters) => {
          const bad = await deadLetterInserter!.insertIsolating(letters.map((l) => JSON.stringify(deadLetterRow(l))));
          if (bad.length) throw new Error(`dead_letters rejected ${bad.length} rows: ${bad[0]!.reason}`);
        },
      });
    },
    async close() {
      await inserter.close();
    },
  };
}
