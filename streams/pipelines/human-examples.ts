/**
 * Human labels become Model B training examples once the posting's text is known: labels carry only a record id, so
 * this stage keeps the text of recent postings (and labels that arrived before their posting) and joins them.
 * Both maps are bounded (oldest forgotten first); a label whose posting was forgotten is counted, not trained on
 * (it is still in the `labels` table).
 *
 * The stage sits on the stream that carries postings and labels in source order and passes it on unchanged; the
 * examples go to `onExamples` with the event time they became usable (the stream's clock when the second of the
 * pair arrived, so never before the label's own time) and the event time before which every example has been made.
 */
import type { Label } from '../../schemas/label.ts';
import type { TimedExample } from '../../models/continual/event-time-feed.ts';
import type { PostingText } from '../../models/postings/features.ts';
import type { Stage } from '../kernel/stage.ts';

export type PostingOrLabel = { posting: { id: string } & PostingText } | { label: Label };

export interface HumanExamplesStage<T extends PostingOrLabel> extends Stage<T, T> {
  stats(): { joined: number; pending: number; forgotten: number };
}

export function humanExamples<T extends PostingOrLabel>(
  name: string,
  onExamples: (examples: TimedExample[], upTo: number) => void,
  maxKept = 100_000,
): HumanExamplesStage<T> {
  const texts = new Map<string, PostingText>();
  const pending = new Map<string, Label>();
  let joined = 0;
  let forgotten = 0;
  let clock = -Infinity;
  const keep = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > maxKept) {
      map.delete(map.keys().next().value!);
      if (map === (pending as unknown)) forgotten++;
    }
  };
  const example = (label: Label, text: PostingText): TimedExample => {
    joined++;
    return {
      example: {
        record_id: label.record_id,
        text,
        label: label.label,
        source: 'human',
        source_model: label.source,
        event_time: label.labeled_at,
      },
      availableAt: Math.max(clock, label.labeled_at),
    };
  };
  return {
    name,
    onBatch(batch, out) {
      const examples: TimedExample[] = [];
      for (const record of batch.records) {
        clock = Math.max(clock, record.eventTime);
        const v = record.value;
        if ('posting' in v) {
          const text = { title: v.posting.title, description: v.posting.description };
          keep(texts, v.posting.id, text);
          const waiting = pending.get(v.posting.id);
          if (waiting) {
            pending.delete(v.posting.id);
            examples.push(example(waiting, text));
          }
        } else {
          const text = texts.get(v.label.record_id);
          if (text) examples.push(example(v.label, text));
          else keep(pending, v.label.record_id, v.label);
        }
      }
      // Records at the clock's time may still come in the next batch: only what is before it is complete.
      onExamples(examples, clock - 1);
      out.emit(batch);
    },
    onEnd() {
      onExamples([], Infinity);
    },
    stats: () => ({ joined, pending: pending.size, forgotten }),
  };
}
