import { describe, expect, it } from 'vitest';
import { isBrokerUnreachable } from './broker-errors.js';
import { BrokerOutage } from './broker-outage.ts';

const refused = () =>
  Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError' });

/** An attempt that fails `failures` times with `error()`, then returns 'ok'. */
function flaky(failures: number, error: () => Error) {
  let calls = 0;
  const attempt = async () => {
    calls++;
    if (calls <= failures) throw error();
    return 'ok';
  };
  return { attempt, calls: () => calls };
}

describe('isBrokerUnreachable', () => {
  it('is true for connection errors, wrapped or not, and false for refused logins and bad requests', () => {
    expect(isBrokerUnreachable(refused())).toBe(true);
    expect(
      isBrokerUnreachable(
        Object.assign(new Error('retries exceeded', { cause: refused() }), { name: 'KafkaJSNumberOfRetriesExceeded' }),
      ),
    ).toBe(true);
    expect(isBrokerUnreachable(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(true);
    expect(
      isBrokerUnreachable(
        Object.assign(new Error('SASL SCRAM authentication failed'), { name: 'KafkaJSSASLAuthenticationError' }),
      ),
    ).toBe(false);
    expect(
      isBrokerUnreachable(
        Object.assign(new Error('Message too large'), { name: 'KafkaJSProtocolError', retriable: false }),
      ),
    ).toBe(false);
    expect(isBrokerUnreachable(new Error('topic x has 2 partitions'))).toBe(false);
    const metadataRace = new TypeError(
      "Cannot destructure property 'topicMetadata' of '(intermediate value)' as it is null.",
    );
    metadataRace.stack =
      `TypeError: ${metadataRace.message}\n    at listTopics ` +
      `(/app/node_modules/kafkajs/src/admin/index.js:103:13)`;
    expect(isBrokerUnreachable(metadataRace)).toBe(true);
    expect(isBrokerUnreachable(new TypeError('x is not a function'))).toBe(false);
  });
});

describe('BrokerOutage', () => {
  it('fails at once before the broker ever answered: a wrong address is not an outage', async () => {
    const outage = new BrokerOutage({ budgetMs: 60_000 });
    const op = flaky(1, refused);
    await expect(outage.retry('sending', op.attempt)).rejects.toThrow(/ECONNREFUSED/);
    expect(op.calls()).toBe(1);
  });

  it('once the broker has answered, waits an outage out and tells it in two lines', async () => {
    const lines: string[] = [];
    const outage = new BrokerOutage({ budgetMs: 60_000, log: (l) => lines.push(l) });
    outage.answered();
    const op = flaky(4, refused); // 0.25 + 0.5 + 1 + 2 s of backoff, about 3.75 s in all
    await expect(outage.retry('committing offsets', op.attempt)).resolves.toBe('ok');
    expect(op.calls()).toBe(5);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(
        String.raw`^kafka: broker unreachable \(committing offsets: .*ECONNREFUSED.*\); ` +
          String.raw`retrying for up to 60 s \(DRIFTLINE_KAFKA_OUTAGE_SECONDS\)$`,
      ),
    );
    expect(lines[1]).toMatch(/^kafka: broker reachable again after \d+\.\d s; going on$/);
  });

  it('says nothing about a blip shorter than a second', async () => {
    const lines: string[] = [];
    const outage = new BrokerOutage({ budgetMs: 60_000, log: (l) => lines.push(l) });
    outage.answered();
    await expect(outage.retry('fetching', flaky(1, refused).attempt)).resolves.toBe('ok');
    expect(lines).toEqual([]);
  });

  it('gives up after the budget with an error naming the variable to raise', async () => {
    const outage = new BrokerOutage({ budgetMs: 1_000 });
    outage.answered();
    const op = flaky(1_000, refused);
    await expect(outage.retry('sending to events', op.attempt)).rejects.toThrow(
      new RegExp(
        String.raw`Kafka broker unreachable for \d+ s during sending to events; gave up ` +
          String.raw`\(limit 1 s: raise DRIFTLINE_KAFKA_OUTAGE_SECONDS, or check KAFKA_BROKERS\)`,
      ),
    );
    expect(op.calls()).toBeGreaterThan(1);
  });

  it('does not retry an error that is not about reaching the broker', async () => {
    const outage = new BrokerOutage({ budgetMs: 60_000 });
    outage.answered();
    const op = flaky(1, () =>
      Object.assign(new Error('SASL authentication failed'), { name: 'KafkaJSSASLAuthenticationError' }),
    );
    await expect(outage.retry('connecting', op.attempt)).rejects.toThrow(/SASL/);
    expect(op.calls()).toBe(1);
  });
});
