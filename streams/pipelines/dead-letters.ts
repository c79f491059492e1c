import { deadLetterTopicSink } from '../kernel/transport/dead-letter-topic-sink.ts';
import { teeSink } from '../../connectors/tee-sink.ts';
import { deadLetterRow } from '../../connectors/warehouse/dead-letter-row.ts';
import type { DeadLetter } from '../kernel/record.ts';
import type { Sink } from '../kernel/sink.ts';
import { type PipelineContext, topicName } from './pipeline-definition.ts';

/**
 * Where a pipeline's dead letters go: the `dead_letters` table, so anyone can query them with SQL, and the
 * `<input topic>.dlq` topic, so they can be re-produced once fixed.
 */
export function pipelineDeadLetters(context: PipelineContext, inputTopic: string): Sink<DeadLetter> {
  return teeSink('dead-letters', [
    context.warehouse.sink<DeadLetter>('dead_letters', (r) => deadLetterRow(r.value), { batchRecords: 1_000 }),
    deadLetterTopicSink(context.transport, topicName(context, `${inputTopic}.dlq`)),
  ]);
}
