/**
 * Issue 16 item 6: `driftline run events --exactly-once` on the real broker. Events are produced live while a run
 * reads them; twice, the run is caught with a transaction open (frozen with SIGSTOP at random moments until one
 * is), SIGKILLed and started again; the last run ends at end of input. A read_committed consumer of the output topics
 * (window statistics, late records, dead letters) must then see each expected record exactly once, counted by id; a
 * read_uncommitted consumer also sees the records of the transactions the kills aborted, so it may count some twice
 * (printed).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { driftline, exitOf, sleep } from '../e2e/cli.ts';
import { readAll, testKafka, uniqueName } from './kafka-test-helpers.ts';

const SERIES = 8;
const READINGS = 3_000; // per series, every 5 minutes
const PER_CHUNK = 5; // readings per series in one produced chunk
const FIVE_MINUTES = 300_000;
const START = Date.parse('2020-01-01T00:00:00Z');
const brokers = process.env.KAFKA_BROKERS?.split(',') ?? [];
const transport = testKafka();
const kafka = new Kafka({ brokers, clientId: 'driftline-eos-test', logLevel: logLevel.NOTHING });
afterAll(() => transport.close());

interface Input {
  /** Chunks to produce one after the other: every series' next readings, in event-time order. */
  chunks: { key: string; value: Buffer; timestamp: number }[][];
  windows: Set<string>;
  late: Set<string>;
  poison: number;
}

/**
 * Series s-0…s-7, one reading every 5 minutes, in chunks of 5 readings per series. Every 40th reading of series
 * s-1 is poison (a string value: a dead letter). Every 10th chunk ends with a reading of s-2 from two days earlier:
 * late, as its 5-minute window closed long ago. It is never the first record of its chunk, so a restart (which
 * resumes at a chunk boundary or later) has already seen newer records of its partition and still finds it late.
 */
function input(): Input {
  const chunks: Input['chunks'] = [];
  const windows = new Set<string>();
  const late = new Set<string>();
  let poison = 0;
  for (let from = 0; from < READINGS; from += PER_CHUNK) {
    const chunk: Input['chunks'][number] = [];
    for (let i = from; i < from + PER_CHUNK; i++) {
      for (let s = 0; s < SERIES; s++) {
        const key = `s-${s}`;
        const timestamp = START + i * FIVE_MINUTES;
        const bad = s === 1 && i % 40 === 39;
        if (bad) poison += 1;
        else windows.add(`${key}@${timestamp}`);
        chunk.push({
          key,
          value: Buffer.from(JSON.stringify({ source: 'eos', key, timestamp, value: bad ? 'oops' : (i % 17) + s })),
          timestamp,
        });
      }
    }
    if ((from / PER_CHUNK) % 10 === 9) {
      const timestamp = START + from * FIVE_MINUTES - 2 * 24 * 3_600_000;
      late.add(`s-2@${timestamp}`);
      chunk.push({
        key: 's-2',
        value: Buffer.from(JSON.stringify({ source: 'eos', key: 's-2', timestamp, value: 1 })),
        timestamp,
      });
    }
    chunks.push(chunk);
  }
  return { chunks, windows, late, poison };
}

/** Every record of `topic`, read committed or uncommitted, once the topic is complete (no transaction open). */
async function readTopic(topic: string, readUncommitted: boolean): Promise<Buffer[][]> {
  const admin = kafka.admin();
  await admin.connect();
  const consumer = kafka.consumer({ groupId: uniqueName('eos-reader'), readUncommitted, maxWaitTimeInMs: 100 });
  const values: Buffer[][] = [];
  // Where reading got to per partition, past transaction markers and aborted records too (kafkajs reports batches
  // holding only those as processed, with their last offset).
  const reached = new Map<number, number>();
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    reached.set(payload.partition, Math.max(reached.get(payload.partition) ?? 0, Number(payload.lastOffset) + 1));
  });
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => void values.push([message.key ?? Buffer.alloc(0), message.value!]),
    });
    for (let tries = 0; !ends.every((e) => (reached.get(e.partition) ?? 0) >= Number(e.high)); tries++) {
      if (tries > 1_200)
        throw new Error(
          `reading ${topic} did not reach its end: ${JSON.stringify([...reached])} of ${JSON.stringify(ends)}`,
        );
      await sleep(100);
    }
    return values;
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
}

/**
 * True when a transaction holding records is open on one of `topics`: a partition's last stable offset (where
 * read_committed stops) is below its high watermark. kafkajs' admin has no ListOffsets by isolation level, so this
 * borrows the client's own cluster factory with each level (test-only: kafkajs is frozen upstream).
 */
async function transactionOpen(topics: string[]): Promise<boolean> {
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')!;
  type Cluster = {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    addMultipleTargetTopics(topics: string[]): Promise<void>;
    findTopicPartitionMetadata(topic: string): { partitionId: number }[];
    fetchTopicsOffset(
      request: unknown[],
    ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  };
  const ends = async (isolationLevel: number) => {
    const cluster = (kafka as unknown as Record<symbol, (o: object) => Cluster>)[factory]!({ isolationLevel });
    await cluster.connect();
    try {
      await cluster.addMultipleTargetTopics(topics);
      const request = topics.map((topic) => ({
        topic,
        fromBeginning: false,
        partitions: cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId })),
      }));
      return (await cluster.fetchTopicsOffset(request)).flatMap((t) =>
        t.partitions.map((p) => [`${t.topic}/${p.partition}`, Number(p.offset)] as const),
      );
    } finally {
      await cluster.disconnect();
    }
  };
  const stable = new Map(await ends(1)); // READ_COMMITTED: the last stable offset
  return (await ends(0)).some(([id, high]) => (stable.get(id) ?? high) < high); // READ_UNCOMMITTED: the high watermark
}

/** How many times each id was read. */
function counts(ids: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of ids) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}

const duplicates = (seen: Map<string, number>) => [...seen.values()].reduce((sum, n) => sum + n - 1, 0);

describe('exactly once on a real Kafka broker', () => {
  it('SIGKILL mid-run twice, restart: read_committed sees every window, late record and dead letter once', async () => {
    const prefix = `${uniqueName('eos')}.`;
    const home = mkdtempSync(join(tmpdir(), 'driftline-eos-'));
    const config = join(home, 'config.json');
    writeFileSync(config, JSON.stringify({ pipelines: { events: { windowMinutes: 5 } } }));
    const env = {
      DRIFTLINE_HOME: home,
      DRIFTLINE_TOPIC_PREFIX: prefix,
      CLICKHOUSE_URL: '',
      DRIFTLINE_PROGRESS_SECONDS: '3600',
    };
    const run = (...extra: string[]) =>
      driftline(['run', 'events', '--exactly-once', '--config', config, ...extra], env);
    const expected = input();
    await transport.ensureTopic(`${prefix}events`, 4);

    // Produce live, in small chunks, once the first run has joined its group: it reads small batches and commits
    // a transaction about every second while the kills are prepared.
    const first = run();
    const admin = kafka.admin();
    await admin.connect();
    for (
      let tries = 0;
      (await admin.describeGroups([`${prefix}driftline-events`])).groups[0]?.state !== 'Stable';
      tries++
    ) {
      if (first.exitCode !== null || tries > 1_200)
        throw new Error(`the run did not join its group:\n${first.output()}`);
      await sleep(100);
    }
    await admin.disconnect();
    const producer = await transport.producer();
    let paced = true;
    let produced = 0;
    const producing = (async () => {
      for (const chunk of expected.chunks) {
        await producer.send(`${prefix}events`, chunk);
        produced += 1;
        if (paced) await sleep(150);
      }
    })();

    // Once output flows, freeze the run at random moments until it is caught with a transaction open, and kill it.
    const outputs = ['events.windows', 'events.late', 'events.dlq'].map((t) => `${prefix}${t}`);
    const outputFlows = async () =>
      (await Promise.all(outputs.map((t) => transport.partitionCount(t)))).every((n) => n > 0);
    let kills = 0;
    let pauses = 0;
    for (let round = 0; round < 2; round++) {
      const child = round === 0 ? first : run();
      for (let tries = 0; !(await outputFlows()); tries++) {
        if (child.exitCode !== null) throw new Error(`the run exited early:\n${child.output()}`);
        if (tries > 1_200) throw new Error(`no output after 2 minutes:\n${child.output()}`);
        await sleep(100);
      }
      for (;;) {
        await sleep(Math.random() * 300);
        if (child.exitCode !== null) throw new Error(`the run exited early:\n${child.output()}`);
        child.kill('SIGSTOP');
        pauses += 1;
        if (await transactionOpen(outputs)) break;
        child.kill('SIGCONT');
        if (produced === expected.chunks.length)
          throw new Error(`input ran out before a transaction was caught open (${pauses} pauses)`);
      }
      child.kill('SIGKILL');
      expect(await exitOf(child)).toBe(null);
      kills += 1;
    }
    paced = false;
    await producing;
    await producer.close();
    const last = run('--until-idle');
    const code = await exitOf(last);
    if (code !== 0) throw new Error(`the last run exited ${code}:\n${last.output()}`);

    const windowIds = (records: Buffer[][]) =>
      records.map(([, v]) => {
        const w = JSON.parse(v!.toString()) as { key: string; start: number };
        return `${w.key}@${w.start}`;
      });
    const lateIds = (records: Buffer[][]) =>
      records.map(([, v]) => {
        const e = JSON.parse(v!.toString()) as { key: string; ts: number; timestamp?: number };
        return `${e.key}@${e.ts ?? e.timestamp}`;
      });
    const dlqIds = (records: Buffer[][]) => records.map(([k, v]) => `${k!.toString()}:${v!.toString()}`);
    const read = async (readUncommitted: boolean) => ({
      windows: counts(windowIds(await readTopic(`${prefix}events.windows`, readUncommitted))),
      late: counts(lateIds(await readTopic(`${prefix}events.late`, readUncommitted))),
      dlq: counts(dlqIds(await readTopic(`${prefix}events.dlq`, readUncommitted))),
    });
    const committed = await read(false);
    // driftline's own consumer reads committed output too, and knows when it has read it all (past the markers).
    expect(await readAll(transport, `${prefix}events.windows`)).toHaveLength(expected.windows.size);
    const uncommitted = await read(true);

    expect(kills).toBe(2);
    // Each kill aborted a transaction holding records, which the next run derived again: read_uncommitted shows them.
    expect(
      duplicates(uncommitted.windows) + duplicates(uncommitted.late) + duplicates(uncommitted.dlq),
    ).toBeGreaterThan(0);
    expect(new Set(committed.windows.keys())).toEqual(expected.windows);
    expect(new Set(committed.late.keys())).toEqual(expected.late);
    expect(duplicates(committed.windows) + duplicates(committed.late) + duplicates(committed.dlq)).toBe(0);
    expect([...committed.dlq.values()].reduce((a, b) => a + b, 0)).toBe(expected.poison);
    const seenUncommitted = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    console.log(
      `exactly-once: ${kills} SIGKILLs mid-transaction (${pauses} pauses to catch them); ` +
        `read_committed: ${committed.windows.size} windows, ${committed.late.size} late, ` +
        `${committed.dlq.size} dead letters, 0 duplicates; ` +
        `read_uncommitted: ${seenUncommitted(uncommitted.windows)} windows ` +
        `(${duplicates(uncommitted.windows)} duplicates), ${seenUncommitted(uncommitted.late)} late ` +
        `(${duplicates(uncommitted.late)} duplicates), ` +
        `${seenUncommitted(uncommitted.dlq)} dead letters (${duplicates(uncommitted.dlq)} duplicates)`,
    );
  }, 420_000);
});
