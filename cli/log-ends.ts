import { EmbeddedLogTransport } from '../connectors/embedded-log/embedded-log.ts';
import type { Transport } from '../streams/kernel/transport/transport.ts';
import type { LogEnds } from '../streams/kernel/consumer-lag.ts';

/**
 * Where the log of `topics` ends now, per partition, for consumer lag: Kafka's high watermarks (one ListOffsets
 * request per topic), the embedded log's record counts (a scan from the last known end). Undefined for transports
 * that cannot say (in-memory).
 */
export function logEnds(transport: Transport, topics: readonly string[]): LogEnds | undefined {
  if (transport instanceof EmbeddedLogTransport) {
    return async () => {
      const out = [];
      for (const topic of topics)
        out.push(...(await transport.endOffsets(topic)).map((offset, partition) => ({ topic, partition, offset })));
      return out;
    };
  }
  const offsetsForTime = transport.offsetsForTime?.bind(transport);
  if (!offsetsForTime) return undefined;
  // From time 0 the start offsets are the low watermarks Kafka returns with the ends: no by-timestamp lookup.
  return async () =>
    (
      await Promise.all(
        topics.map(async (topic) =>
          (await offsetsForTime(topic, 0)).map((o) => ({ topic, partition: o.partition, offset: o.end })),
        ),
      )
    ).flat();
}
