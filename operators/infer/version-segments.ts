/**
 * Versions by event time for `infer`: groups a batch's records into runs scored by the same model versions, as
 * `versionAt` names them per record.
 */
import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { ModelRef } from './infer.ts';
import type { Loaded, ModelSessions } from './model-sessions.ts';

/** Records [start, end) of a batch, scored by `models`. */
export interface Segment {
  start: number;
  end: number;
  models: Loaded[];
}

export type VersionAt = (modelId: string, eventTime: number) => string | undefined;

/** Consecutive records scored by the same versions. Without `versionAt`, one segment: the batch's versions. */
export async function segmentsByVersion<I>(
  records: StreamRecord<I>[],
  batchModels: Loaded[],
  models: ModelRef[],
  sessions: ModelSessions,
  versionAt: VersionAt | undefined,
): Promise<Segment[]> {
  if (!versionAt || records.length === 0) return [{ start: 0, end: records.length, models: batchModels }];
  const segments: Segment[] = [];
  let key = '';
  for (let i = 0; i < records.length; i++) {
    const versions = versionsOf(records[i]!, models, versionAt);
    const next = versions.join('\u0000');
    if (segments.length > 0 && next === key) segments.at(-1)!.end = i + 1;
    else segments.push({ start: i, end: i + 1, models: await sessions.sessionsFor(versions) });
    key = next;
  }
  return segments;
}

/** The version `versionAt` names for each configured model (undefined: the active one). */
function versionsOf<I>(record: StreamRecord<I>, models: ModelRef[], versionAt: VersionAt): (string | undefined)[] {
  return models.map((ref) => (ref.version === undefined ? versionAt(ref.id, record.eventTime) : undefined));
}
