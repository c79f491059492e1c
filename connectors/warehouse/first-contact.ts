import { redactUrl } from '../../config/redact.ts';
import { createClickHouseClient } from './clickhouse-sink.ts';

/** How long the first request to ClickHouse may take before the address is called unreachable. */
export const FIRST_CONTACT_MS = 4_000;

/** Socket-level failures (and the client's own timeout): nothing answered at that address. */
const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|socket hang up|timeout/i;

/**
 * Asks the server `SELECT 1` with a short timeout before any real work. When nothing answers (a closed port, a
 * black hole, an unknown host) the error is one line naming CLICKHOUSE_URL, its address (password redacted) and
 * the fix; the client's own timeout error after 60 s has an empty message. A server that answers with an error
 * (e.g. wrong credentials) is left for the real request to report.
 */
export async function checkClickHouseReachable(url: string, timeoutMs = FIRST_CONTACT_MS): Promise<void> {
  const probe = createClickHouseClient({ url, requestTimeoutMs: timeoutMs });
  try {
    await probe.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json());
  } catch (error) {
    const e = error as { message?: string; code?: string; name?: string };
    const said = [e.code, e.message].filter(Boolean).join(' ').trim();
    if (said !== '' && !UNREACHABLE.test(`${said} ${e.name ?? ''}`)) throw error;
    const detail = /timeout/i.test(said) || said === '' ? `no answer within ${timeoutMs / 1000} s` : said;
    throw new Error(
      `ClickHouse is not reachable at CLICKHOUSE_URL=${redactUrl(url)} (${detail}): start the local services ` +
        'with `npm run services:up`, point CLICKHOUSE_URL at a running server, or unset it for the embedded ' +
        'DuckDB warehouse',
      { cause: error },
    );
  } finally {
    await probe.close().catch(() => {});
  }
}
