/**
 * Human labels become Model B training examples once the posting's text is known: labels carry only a record id, so
 * this stage keeps the text of recent postings (and labels that arrived before their posting) and joins them.
 * Both maps are bounded (oldest forgotten first); a label whose posting was forgotten is counted, not trained on
 * (it is still in the `labels` table).
 */
import type { Label } from '../../connectors/labels/label.ts';
import type { TrainingExample } from '../../models/continual/training-example.ts';
import type { PostingText } from '../../models/postings/features.ts';
import { releaseAll } from '../ack.ts';
import type { StreamRecord } from '../record.ts';
import type { Stage } from '../stage.ts';

export type PostingOrLabel = { posting: { id: string } & PostingText } | { label: Label };

export interface HumanExamplesStage extends Stage<PostingOrLabel, TrainingExample> {
  stats(): { joined: number; pending: number; forgotten: number };
}

export function humanExamples(name: string, maxKept = 100_000): HumanExamplesStage {
  const texts = new Map<string, PostingText>();
  const pending = new Map<string, Label>();
  let joined = 0;
  let forgotten = 0;
  const keep = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > maxKept) {
      map.delete(map.keys().next().value!);
      if (map === (pending as unknown)) forgotten++;
    }
  };
  const example = (label: Label, text: PostingText, record: StreamRecord<unknown>): StreamRecord<TrainingExample> => {
    joined++;
    return { ...record, key: label.record_id, value: { record_id: label.record_id, text, label: label.label, source: 'human', source_model: label.source, event_time: label.labeled_at } };
  };
  return {
    name,
    onBatch(batch, out) {
      const examples: StreamRecord<TrainingExample>[] = [];
      for (const record of batch.records) {
        const v = record.value;
        if ('posting' in v) {
          const text = { title: v.posting.title, description: v.posting.description };
          keep(texts, v.posting.id, text);
          const waiting = pending.get(v.posting.id);
          if (waiting) {
            pending.delete(v.posting.id);
            examples.push(example(waiting, text, record));
          }
        } else {
          const text = texts.get(v.label.record_id);
          if (text) examples.push(example(v.label, text, record));
          else keep(pending, v.label.record_id, v.label);
        }
      }
      // Examples go to the trainer's memory, not to durable storage: the source batch is done with here.
      if (examples.length > 0) out.emit({ records: examples, tokens: batch.tokens });
      else releaseAll(batch.tokens);
    },
    stats: () => ({ joined, pending: pending.size, forgotten }),
  };
}
