import type { Transport } from '../streams/kernel/transport/transport.ts';
import type { PipelineContext, PipelineDefinition } from '../streams/pipelines/pipeline-definition.ts';
import { repartitionSink, repartitionSource, repartitionTopic } from '../streams/kernel/repartition.ts';
import { type RunOptions, type RunResult, runPipeline } from '../streams/kernel/runner.ts';
import type { Source } from '../streams/kernel/source.ts';

/** Where a scaled-out run reads: its transport, consumer group, input topics and the input topic's partitions. */
export interface ScaledInput {
  transport: Transport;
  group: string;
  topics: string[];
  inputTopic: string;
  partitions: number;
}

/**
 * `driftline run <pipeline> --scale-out`: the pipeline's per-partition part on the partitions this worker is
 * assigned in `group`, and its stream-wide part on the repartition topic when this worker holds it (group
 * `<group>-stream-wide`: one holder at a time, taken over when it leaves). With --until-idle a worker stops only once
 * the whole group has committed all input (`groupCaughtUp`), so the partitions of a crashed worker are taken over and
 * processed first; the stream-wide part then reads the repartition topic to its end and closes its windows.
 */
export function scaledRun<O>(
  definition: PipelineDefinition<O>,
  source: Source<Buffer>,
  context: PipelineContext<O>,
  input: ScaledInput,
) {
  if (!definition.buildScaled) throw new Error(`${definition.name} has no scaled-out form (--scale-out)`);
  const { transport, group, topics } = input;
  const groupDone = async () => (await transport.groupCaughtUp?.(group, topics)) ?? true;
  const topic = repartitionTopic(group);
  const inputPartitions = Array.from({ length: input.partitions }, (_, partition) => ({
    topic: input.inputTopic,
    partition,
  }));
  let holds = false;
  // In one process (embedded log, memory) nothing says the group is done: the local per-partition part ending does.
  let perPartitionEnded = false;
  const streamWideGroup = `${group}-stream-wide`;
  // A worker that never held the stream-wide stages ends once their holder has committed the repartition topic to
  // its end: leaving earlier would make the group move the topic to another worker before the windows are closed.
  const holderDone = async () => holds || ((await transport.groupCaughtUp?.(streamWideGroup, [topic])) ?? true);
  const inputComplete = async () => perPartitionEnded && (await groupDone()) && (await holderDone());
  let streamWideSource: Source<unknown> | undefined;
  const parts = definition.buildScaled(groupWide(source, groupDone), context, {
    sink: (codec) => repartitionSink(transport, { topic, codec }),
    source: (codec) => {
      const opened = repartitionSource(transport, {
        topic,
        group: streamWideGroup,
        codec,
        inputPartitions,
        inputComplete,
        onFirstRead: () => {
          if (!holds) process.stderr.write(`${definition.name}: this worker runs the stream-wide stages (${topic})\n`);
          holds = true;
        },
      });
      streamWideSource = opened as Source<unknown>;
      return opened;
    },
  });
  const ended = () => {
    perPartitionEnded = true;
  };
  // The stream-wide stages' state does not move with the topic: a worker that loses it stops them without emitting
  // their open windows, and the new holder rebuilds them from the last commit (the windows held those records back).
  const handedOver = new AbortController();
  streamWideSource?.onRevoked(() => {
    if (holds) process.stderr.write(`${definition.name}: the stream-wide stages moved to another worker\n`);
    handedOver.abort();
  });
  return {
    run: (options: RunOptions) => runBoth(parts.perPartition, parts.streamWide, options, ended, handedOver.signal),
  };
}

/** A source that says it has caught up only once its whole consumer group has committed all input. */
function groupWide<T>(source: Source<T>, groupDone: () => Promise<boolean>): Source<T> {
  return {
    name: source.name,
    poll: (waitMs) => source.poll(waitMs),
    commit: (offsets) => source.commit(offsets),
    caughtUp: async () => (await source.caughtUp()) && (await groupDone()),
    onRevoked: (listener) => source.onRevoked(listener),
    close: () => source.close(),
  };
}

/** Both parts at once; the first to fail stops the other. One result: the per-partition part's, with both's stages. */
async function runBoth(
  perPartition: Parameters<typeof runPipeline>[0],
  streamWide: Parameters<typeof runPipeline>[0] | undefined,
  options: RunOptions,
  perPartitionEnded: () => void,
  handedOver: AbortSignal,
): Promise<RunResult> {
  const stop = new AbortController();
  options.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  const stopStreamWide = new AbortController();
  for (const s of [stop.signal, handedOver]) s.addEventListener('abort', () => stopStreamWide.abort(), { once: true });
  const stopOnFailure = (run: Promise<RunResult>) =>
    run.catch((error: unknown) => {
      stop.abort();
      throw error;
    });
  const [first, second] = await Promise.all([
    stopOnFailure(runPipeline(perPartition, { ...options, signal: stop.signal })).finally(perPartitionEnded),
    streamWide
      ? stopOnFailure(
          runPipeline(streamWide, {
            ...options,
            signal: stopStreamWide.signal,
            onStart: undefined,
            logEnds: undefined,
          }),
        )
      : undefined,
  ]);
  if (!second) return first;
  return {
    ...first,
    metrics: [...first.metrics, ...second.metrics.filter((m) => !first.metrics.some((f) => f.stage === m.stage))],
    deadLetters: first.deadLetters + second.deadLetters,
    endedAt: Math.max(first.endedAt, second.endedAt),
    durationMs: Math.max(first.endedAt, second.endedAt) - first.startedAt,
  };
}
