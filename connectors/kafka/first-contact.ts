import { connect as tcpConnect } from 'node:net';
import { isBrokerUnreachable } from './broker-errors.js';

/**
 * How long the first contact with the brokers may take. kafkajs alone retries a refused connection for about 40 s
 * (and waits on a silent address longer); a wrong address or a broker not started should fail well within 10 s.
 */
export const FIRST_CONTACT_MS = 5_000;

/** The one-line error for brokers never reached: the variable, the address, and the fix. */
export function kafkaUnreachable(brokers: string[], detail: string, cause?: unknown): Error {
  return new Error(
    `Kafka is not reachable at KAFKA_BROKERS=${brokers.join(',')} (${detail}): start the local services with ` +
      '`npm run services:up`, point KAFKA_BROKERS at a running broker, or unset it for the embedded log',
    { cause },
  );
}

/**
 * The first connection to the brokers, bounded by `timeoutMs`: an unreachable broker (refused, silent, unknown
 * host) fails with `kafkaUnreachable`; other errors (credentials, TLS) pass through as they are. Once a broker has
 * answered, outages are BrokerOutage's to wait out (broker-outage.ts), not this.
 */
export async function firstContact<T>(
  brokers: string[],
  connect: () => Promise<T>,
  abandon: () => void,
  timeoutMs = FIRST_CONTACT_MS,
): Promise<T> {
  // kafkajs retries a refused port for ~40 s before it says so: when no broker accepts a TCP connection, say it now.
  const refusals = await Promise.all(brokers.map((address) => tcpRefusal(address, timeoutMs)));
  if (refusals.every((r) => r !== undefined)) throw kafkaUnreachable(brokers, refusals.join('; '));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(kafkaUnreachable(brokers, `no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return await Promise.race([connect(), timeout]);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('Kafka is not reachable')) {
      abandon();
      throw error;
    }
    if (!isBrokerUnreachable(error)) throw error;
    abandon();
    throw kafkaUnreachable(brokers, error instanceof Error ? error.message : String(error), error);
  } finally {
    clearTimeout(timer);
  }
}

/** Why a TCP connection to `host:port` failed at once (refused, unknown host), or undefined when it opened or hangs. */
function tcpRefusal(address: string, timeoutMs: number): Promise<string | undefined> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(undefined)); // silent: left to the bounded connect to tell
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(`${address}: ${error.code ?? error.message}`));
  });
}
