import { parseOptions } from '../../config/pipeline-options.ts';
import type { Settings } from '../../config/settings.ts';
import { eventsPipeline } from './events.ts';
import { framesPipeline } from './frames.ts';
import { labelsPipeline } from './labels.ts';
import type { PipelineDefinition } from './pipeline-definition.ts';
import { postingsPipeline } from './postings.ts';

export const pipelines: PipelineDefinition[] = [eventsPipeline, postingsPipeline, framesPipeline, labelsPipeline];

export function pipelineNamed(name: string): PipelineDefinition {
  const found = pipelines.find((p) => p.name === name);
  if (!found) throw new Error(`no pipeline named "${name}"; available: ${pipelines.map((p) => p.name).join(', ')}`);
  return found;
}

/**
 * `definition`'s options from the --config file, checked. Every other section of the file is checked too, so a
 * misspelt pipeline or option anywhere in it stops the command at start-up, naming the bad key.
 */
export function pipelineOptions<O>(definition: PipelineDefinition<O>, settings: Pick<Settings, 'pipelines'>): O {
  for (const [name, raw] of Object.entries(settings.pipelines)) {
    const other = pipelines.find((p) => p.name === name);
    if (!other)
      throw new Error(
        `config: no pipeline named "${name}" (under "pipelines"); ` +
          `pipelines: ${pipelines.map((p) => p.name).join(', ')}`,
      );
    parseOptions(name, other.options, raw);
  }
  return parseOptions(definition.name, definition.options, settings.pipelines[definition.name]);
}
