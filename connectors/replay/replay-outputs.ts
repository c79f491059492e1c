import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../../config/settings.ts';
import { EmbeddedLogTransport } from '../embedded-log/embedded-log.ts';

/** A replay's own directory: `<DRIFTLINE_HOME>/replays/<run id>/`. */
export const replayDir = (settings: Pick<Settings, 'home'>, runId: string) => join(settings.home, 'replays', runId);

/** The embedded log holding a replay's side outputs (window topics, dead-letter topics), under their usual names. */
export const replayLogDir = (settings: Pick<Settings, 'home'>, runId: string) =>
  join(replayDir(settings, runId), 'log');

/**
 * The transport a replayed pipeline writes its topics to: a fresh embedded log of its own, whatever transport the
 * live pipeline uses, so a replay never adds windows or dead letters to live topics (or to Kafka at all), and its
 * outputs stay on disk for comparison. Replaying under the same run id again starts that log afresh.
 */
export function replayOutputs(settings: Pick<Settings, 'home'>, runId: string): EmbeddedLogTransport {
  const dir = replayLogDir(settings, runId);
  rmSync(dir, { recursive: true, force: true });
  return new EmbeddedLogTransport({ dir });
}
