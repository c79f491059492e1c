import { commandSettings } from '../config/settings.ts';
import { listFiles } from '../connectors/files/list-files.ts';
import { EventTimePacer } from '../connectors/files/pacing.ts';
import { openTransport } from '../connectors/open-transport.ts';
import type { Message, Producer } from '../streams/kernel/transport/transport.ts';
import { SENT_AT_HEADER } from '../streams/kernel/end-to-end-latency.ts';
import { INPUT_ERROR_HEADER } from '../streams/kernel/input-error.ts';
import { topicName } from '../streams/pipelines/pipeline-definition.ts';
import { pipelineNamed, pipelineOptions } from '../streams/pipelines/registry.ts';
import { decode } from '../schemas/registry.ts';
import { createSerde } from '../schemas/wire-format.ts';
import { CommandProgress } from './progress.ts';

export interface ProduceOptions {
  rate?: number;
  /** Replay at event-time pace: 1 = original, 60 = sixty times faster. */
  speed?: number;
  quiet?: boolean;
  /** JSON file with per-pipeline options; `produce` uses the input-side ones (frames: `drift`, the camera fault). */
  config?: string;
  /** `--csv-map`: the columns of CSV postings exports that are not Glassdoor's (connectors/postings/csv-columns.ts). */
  csvMap?: string;
}

/** Stamps the send time on each message, where end-to-end latency starts (message timestamps are event times). */
function stamped(messages: Message[]): Message[] {
  const at = String(Date.now());
  return messages.map((m) => ({ ...m, headers: { ...m.headers, [SENT_AT_HEADER]: at } }));
}

/** Sends messages as their event times come due (a record waits for its moment, then goes with those due with it). */
async function sendByEventTime(
  producer: Producer,
  topic: string,
  messages: Message[],
  pacer: EventTimePacer,
  clock: { sent: number },
) {
  let pending: Message[] = [];
  for (const m of messages) {
    const wait = pacer.delayMs(m.timestamp);
    if (wait > 0 && pending.length > 0) {
      await producer.send(topic, stamped(pending));
      clock.sent += pending.length;
      pending = [];
    }
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(m);
  }
  if (pending.length > 0) await producer.send(topic, stamped(pending));
  clock.sent += pending.length;
}

/** Sends messages, pacing them to `rate` records/s when given (in slices of a tenth of a second). */
async function sendPaced(
  producer: Producer,
  topic: string,
  messages: Message[],
  rate: number | undefined,
  clock: { start: number; sent: number },
) {
  const slice = rate ? Math.max(1, Math.floor(rate / 10)) : messages.length;
  for (let i = 0; i < messages.length; i += slice) {
    const part = stamped(messages.slice(i, i + slice));
    await producer.send(topic, part);
    clock.sent += part.length;
    if (rate) {
      const aheadMs = (clock.sent / rate) * 1000 - (Date.now() - clock.start);
      if (aheadMs > 0) await new Promise((r) => setTimeout(r, aheadMs));
    }
  }
}

/**
 * Records a reader flagged as broken input (input-error.ts): published all the same, the pipeline dead-letters them.
 */
class FlaggedInput {
  count = 0;
  private readonly shown: string[] = [];
  note(messages: Message[]): void {
    for (const m of messages) {
      const reason = m.headers?.[INPUT_ERROR_HEADER];
      if (reason === undefined) continue;
      this.count += 1;
      if (this.shown.length < 5) this.shown.push(reason);
    }
  }
  summary(): string {
    if (this.count === 0) return '';
    const more = this.count > this.shown.length ? `\n  … and ${this.count - this.shown.length} more` : '';
    return (
      `${this.count} records could not be read and go to the dead letters when the pipeline runs:\n ` +
      ` ${this.shown.join('\n  ')}${more}\n`
    );
  }
}

/** `driftline produce`: publishes input files to the pipeline's input topic; one bad record never stops a file. */
export async function produceCommand(name: string, paths: string[], options: ProduceOptions): Promise<number> {
  const settings = commandSettings(options.config);
  const definition = pipelineNamed(name);
  const pipelineConfig = pipelineOptions(definition, settings); // checked before anything is opened
  const inputTopic = topicName({ settings }, definition.inputTopic);
  const files = listFiles(paths, definition.acceptsFile);
  if (files.length === 0) throw new Error(`no input files for ${name} under ${paths.join(', ')}`);
  const transport = openTransport(settings);
  const clock = { start: Date.now(), sent: 0 };
  const progress = options.quiet
    ? undefined
    : new CommandProgress(`produce ${name}`, () => ({ records: clock.sent }), {
        plainEveryMs: settings.progressEveryMs,
      });
  // Ctrl-C: what was acknowledged so far, then the usual exit code of an interrupted command.
  const onSignal = (signal: string) => {
    progress?.stop();
    process.stderr.write(
      `\n${signal}: stopped; ${clock.sent} records acknowledged to ${transport.kind} topic ${inputTopic} ` +
        `in ${((Date.now() - clock.start) / 1000).toFixed(1)} s\n`,
    );
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await transport.ensureTopic(inputTopic, definition.partitions);
    const producer = await transport.producer();
    const pacer = options.speed ? new EventTimePacer(options.speed) : undefined;
    // With a Schema Registry, Avro values are re-framed in the Confluent wire format other clients expect.
    const schema = definition.valueSchema;
    const serde =
      settings.schemaRegistryUrl && schema
        ? createSerde(schema, { schemaRegistryUrl: settings.schemaRegistryUrl, topic: inputTopic })
        : undefined;
    const flagged = new FlaggedInput();
    for await (const plain of definition.read(files, pipelineConfig, { csvMap: options.csvMap })) {
      flagged.note(plain);
      const batch =
        serde && schema
          ? await Promise.all(
              plain.map(async (m) => ({ ...m, value: await serde.encode(decode(schema, m.value) as never) })),
            )
          : plain;
      if (pacer) await sendByEventTime(producer, inputTopic, batch, pacer, clock);
      else await sendPaced(producer, inputTopic, batch, options.rate, clock);
    }
    await producer.close();
    progress?.stop();
    const seconds = (Date.now() - clock.start) / 1000;
    if (!options.quiet)
      process.stderr.write(
        `${flagged.summary()}produced ${clock.sent} records from ${files.length} files to ${transport.kind} ` +
          `topic ${inputTopic} in ${seconds.toFixed(1)} s\n`,
      );
    return clock.sent;
  } catch (error) {
    throw diskFull(error, settings.home, clock.sent) ?? error;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await transport.close();
  }
}

/** A full disk under the embedded log: where, what to do, and how many records were acknowledged before it. */
function diskFull(error: unknown, home: string, acknowledged: number): Error | undefined {
  if ((error as NodeJS.ErrnoException | null)?.code !== 'ENOSPC') return undefined;
  return new Error(
    `no space left under DRIFTLINE_HOME (${home}): free space and run again; nothing acknowledged was lost ` +
      `(${acknowledged} records were acknowledged before the disk filled)\n  ${(error as Error).message}`,
    { cause: error },
  );
}
