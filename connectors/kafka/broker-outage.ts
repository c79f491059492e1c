import { isBrokerUnreachable } from './broker-errors.js';

export interface BrokerOutageOptions {
  /** How long one outage may last before the operation's error is final (DRIFTLINE_KAFKA_OUTAGE_SECONDS). */
  budgetMs: number;
  /** One line per change of state: the broker went away, came back, or the budget ran out. */
  log?: (line: string) => void;
}

const FIRST_DELAY_MS = 250;
/** Blips shorter than this (a coordinator still loading after a topic is created) are not worth a log line. */
const QUIET_MS = 1_000;
const MAX_DELAY_MS = 5_000;

/**
 * Waits out a broker that goes away after the client first reached it (a restart, a failover), the way the
 * ClickHouse sink waits out its server: operations retry with backoff until the broker answers again or the
 * outage has lasted `budgetMs`. Before the broker has ever answered, errors are final at once: a wrong address
 * should fail fast, not after minutes. One instance per client, so concurrent operations share one outage.
 */
export class BrokerOutage {
  private reached = false;
  /** When the current outage began, or null while the broker answers. */
  private since: number | null = null;
  /** Whether the current outage has been told (it is once it lasts QUIET_MS). */
  private told = false;

  constructor(private readonly options: BrokerOutageOptions) {}

  get budgetSeconds(): number {
    return Math.round(this.options.budgetMs / 1000);
  }

  /** Runs `attempt` until it succeeds, retrying while the broker is unreachable and the budget lasts. */
  async retry<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    let delay = FIRST_DELAY_MS;
    for (;;) {
      try {
        const result = await attempt();
        this.answered();
        return result;
      } catch (error) {
        if (!this.reached || !isBrokerUnreachable(error)) throw error;
        const waited = this.failed(what, error);
        if (waited + delay > this.options.budgetMs) throw this.gaveUp(what, waited, error);
        await new Promise((r) => setTimeout(r, delay * (0.8 + Math.random() * 0.4)));
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
    }
  }

  /** The broker answered (also called by code that reaches it without `retry`, e.g. a successful fetch). */
  answered(): void {
    this.reached = true;
    if (this.since === null) return;
    if (this.told)
      this.options.log?.(
        `kafka: broker reachable again after ${((Date.now() - this.since) / 1000).toFixed(1)} s; going on`,
      );
    this.since = null;
    this.told = false;
  }

  /** Records a failure; returns how long the outage has lasted so far. */
  failed(what: string, error: unknown): number {
    this.since ??= Date.now();
    const waited = Date.now() - this.since;
    if (!this.told && waited >= QUIET_MS) {
      this.told = true;
      this.options.log?.(
        `kafka: broker unreachable (${what}: ${messageOf(error)}); retrying for up to ${this.budgetSeconds} s ` +
          `(DRIFTLINE_KAFKA_OUTAGE_SECONDS)`,
      );
    }
    return waited;
  }

  private gaveUp(what: string, waitedMs: number, error: unknown): Error {
    const message =
      `Kafka broker unreachable for ${(waitedMs / 1000).toFixed(0)} s during ${what}; gave up (limit ` +
      `${this.budgetSeconds} s: raise DRIFTLINE_KAFKA_OUTAGE_SECONDS, or check KAFKA_BROKERS): ${messageOf(error)}`;
    return new Error(message, { cause: error });
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
