import type { Label } from '../../schemas/label.ts';
import type { Inferred } from '../../operators/infer/infer.ts';
import type { JobPosting } from '../../operators/normalize/index.ts';
import { Pipeline } from '../kernel/pipeline.ts';
import { jsonCodec } from '../kernel/repartition.ts';
import type { Source } from '../kernel/source.ts';
import { pipelineDeadLetters } from './dead-letters.ts';
import { ModelCalibrations } from './model-calibrations.ts';
import type { PipelineContext, PipelineDefinition, RepartitionLink, ScaledPipeline } from './pipeline-definition.ts';
import {
  loadCalibrations,
  postingsInput,
  postingsModels,
  postingsPipeline as postingsSingle,
  registerModelBFromA,
  scorePostings,
} from './postings.ts';
import type { PostingsOptions } from './postings-options.ts';
import { postingsStreamWide } from './postings-stream-wide.ts';

/** What the per-partition part hands the stream-wide part: a posting scored by A and B, or a label. */
type Repartitioned = { scored: Inferred<JobPosting> } | { label: Label };

/**
 * `postings` scaled out (`driftline run postings --scale-out`, N workers in one group):
 *
 *   worker owning input partitions:  parse → normalize → postings, labels → infer A → infer B → predictions
 *                                                     └────── labels ───────────────────┴→ repartition topic
 *   worker owning the repartition topic: labelling queue, drift, pseudo-labels, A vs B (postings-stream-wide.ts)
 *
 * Model B does not train in a scaled-out run (`train: false`): its trainer and training barrier need the one stream
 * in source order. Without Model A there is nothing stream-wide, and the second part reads nothing.
 */
export function buildPostingsScaled(
  source: Source<Buffer>,
  context: PipelineContext<PostingsOptions>,
  link: RepartitionLink,
): ScaledPipeline {
  const ml = postingsModels(context);
  if (ml && context.options.train !== false)
    throw new Error(
      'postings --scale-out runs with Model B training off: set {"pipelines": {"postings": {"train": false}}}',
    );
  const perPartition = new Pipeline('postings').deadLetters(pipelineDeadLetters(context, 'postings'));
  const { labels, postings } = postingsInput(perPartition, source, context);
  if (!ml) {
    process.stderr.write('postings: no model registered: normalizing only, no inference\n');
    return { perPartition };
  }
  const codec = jsonCodec<Repartitioned>();
  const scoring = scorePostings(perPartition, postings, context, ml);
  scoring.scored
    .map('scored-out', (v): Repartitioned => ({ scored: v }))
    .merge(
      'scored-and-labels',
      labels.map('label-out', (v): Repartitioned => ({ label: v })),
    )
    .to(link.sink(codec));
  perPartition.onClose(scoring.close);
  registerModelBFromA(ml.registry, ml.modelA, ml.modelB);

  const streamWide = new Pipeline('postings-stream-wide').deadLetters(pipelineDeadLetters(context, 'postings'));
  const [labelItems, scoredItems] = streamWide.from(link.source(codec)).branch('scored-or-label', (v) => 'label' in v);
  const scored = scoredItems!.map('scored-in', (v) => (v as { scored: Inferred<JobPosting> }).scored);
  // Model A's predictions alone, as the stages that teach B see them before B in the single-process pipeline
  const scoredA = scored.map(
    'a-only',
    (v): Inferred<JobPosting> => ({ input: v.input, predictions: [v.predictions[0]!] }),
  );
  const calibrations = new ModelCalibrations(ml.registry);
  postingsStreamWide(
    { scoredA, scored, labels: labelItems!.map('label-in', (v) => (v as { label: Label }).label) },
    { context, ml, calibrations },
  );
  loadCalibrations(streamWide, ml, calibrations);
  return { perPartition, streamWide };
}

/** The `postings` definition, with its scaled-out form. */
export const postingsPipeline: PipelineDefinition<PostingsOptions> = {
  ...postingsSingle,
  buildScaled: buildPostingsScaled,
};
