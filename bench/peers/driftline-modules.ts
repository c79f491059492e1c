/**
 * The driftline modules a contender needs, from the checkout `--root` names (a base, or this tree): each path tried
 * where the engine is now, then where an older checkout kept it.
 */
import { resolve } from 'node:path';
import { arg, importFrom } from './child.ts';

export const root = resolve(arg('root', resolve(import.meta.dirname, '..', '..')));

const from = (now: string, before: string) => importFrom(root, now, before);
export const { KafkaTransport } = await import(`${root}/connectors/kafka/kafka-transport.ts`);
export const { topicSource } = await from('streams/kernel/transport/topic-source.ts', 'connectors/topic-source.ts');
export const { topicSink } = await from('streams/kernel/transport/topic-sink.ts', 'connectors/topic-sink.ts');
export const { decodeJson } = await from(
  'streams/kernel/operators/basic/decode-json.ts',
  'operators/basic/decode-json.ts',
);
export const { tumbling } = await from(
  'streams/kernel/operators/window/window-spec.ts',
  'operators/window/window-spec.ts',
);
export const { Pipeline } = await from('streams/kernel/pipeline.ts', 'streams/pipeline.ts');
export const { runPipeline } = await from('streams/kernel/runner.ts', 'streams/runner.ts');
