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
