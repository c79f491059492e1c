import { isEventFile, parseEventTime, readEventFiles } from '../../connectors/files/event-files.ts';
import { compositeId } from '../../connectors/warehouse/tables.ts';
import { jsonBytes, topicSink } from '../../connectors/topic-sink.ts';
import { conformsTo } from '../../operators/basic/conforms-to.ts';
import { decodeJson } from '../../operators/basic/decode-json.ts';
import { tumbling } from '../../operators/window/window-spec.ts';
import type { Event } from '../../schemas/event.ts';
import { Pipeline } from '../pipeline.ts';
import { pipelineDeadLetters } from './dead-letters.ts';
import { type PipelineDefinition, numberOption, topicName } from './pipeline-definition.ts';

export type { Event } from '../../schemas/event.ts';

export interface EventStats {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Checks a raw event and says exactly what is wrong with it. */
export function validateEvent(raw: unknown): Event {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('event must be a JSON object');
  const r = raw as Record<string, unknown>;
  if (typeof r.key !== 'string' || r.key === '') throw new Error('event "key" must be a non-empty string');
  const ts = parseEventTime(r.timestamp);
  if (!Number.isFinite(ts)) throw new Error(`event "timestamp" is not a date: ${JSON.stringify(r.timestamp)}`);
  if (typeof r.value !== 'number' || !Number.isFinite(r.value)) throw new Error(`event "value" must be a finite number, got ${JSON.stringify(r.value)}`);
  return { source: typeof r.source === 'string' ? r.source : 'unknown', key: r.key, ts, value: r.value, values: {}, attributes: {} };
}

/** The `events` warehouse row: one per series and timestamp, so a redelivered event replaces itself. */
export const eventRow = (e: Event) => ({ id: compositeId(e.source, e.key, e.ts), version: 0, source: e.source, key: e.key, ts: e.ts, value: e.value, attributes: JSON.stringify(e.attributes) });

/**
 * events → decode + validate → event time → key by series ─→ warehouse.events
 *                    ↘ dead letters                      └→ tumbling window stats → events.windows
 *                                                                     ↘ late records (events.late)
 */
export const eventsPipeline: PipelineDefinition = {
  name: 'events',
  description: 'Timestamped numeric events (e.g. NAB series) → per-series tumbling-window statistics',
  inputTopic: 'events',
  partitions: 4,
  acceptsFile: isEventFile,
  read: readEventFiles,
  build(source, context) {
    const { transport, options } = context;
    const windowMs = numberOption(options, 'windowMinutes', 60) * 60_000;
    const p = new Pipeline('events').deadLetters(pipelineDeadLetters(context, 'events'));
    const events = p
      .from(source)
      .through(decodeJson('decode', { validate: validateEvent }))
      .through(conformsTo<Event>('schema', 'Event'))
      .eventTime('event-time', (e) => e.ts)
      .keyBy('by-series', (e) => e.key);
    events.to(context.warehouse.sink<Event>('events', (r) => eventRow(r.value), { deadLetters: 'table' }));
    const windows = events.window('stats', {
        spec: tumbling(windowMs),
        allowedLatenessMs: numberOption(options, 'allowedLatenessMinutes', 0) * 60_000,
        idleTimeoutMs: numberOption(options, 'idleTimeoutSeconds', 30) * 1000,
        init: (): EventStats => ({ count: 0, sum: 0, min: Infinity, max: -Infinity }),
        add: (s, e) => ({ count: s.count + 1, sum: s.sum + e.value, min: Math.min(s.min, e.value), max: Math.max(s.max, e.value) }),
    });
    windows.to(topicSink(transport, { topic: topicName(context, 'events.windows'), partitions: 4, serialize: jsonBytes }));
    windows.late.to(topicSink(transport, { topic: topicName(context, 'events.late'), serialize: jsonBytes }));
    return p;
  },
};
