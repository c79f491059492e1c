/**
 * The embedded log: the default transport, persisted to plain files so that separate processes
 * cooperate without a server (`driftline produce` appends in one process, `driftline run` consumes in
 * another, `replay` re-reads later).
 *
 * Layout under `dir` (normally `${DRIFTLINE_HOME}/log`):
 *
 *   <topic>/meta.json               {"partitions": n}
 *   <topic>/<partition>.log         version byte + length-prefixed, checksummed records (see format.ts);
 *                                   offsets are implied by record order
 *   <topic>/groups/<group>.json     committed offsets: {"partitions": {"0": {"offset", "position"}}}; the byte
 *                                   position lets a restarted consumer seek straight to the offset
 *   <topic>/groups/<group>.lock     pid of the one process consuming as that group (see lock.ts)
 *   <topic>/writers/, *.cut-lock    which processes may append, and who is cutting a damaged tail (writers.ts)
 *   <topic>/<partition>.log.damaged-<offset>-<ms>   bytes of a damaged tail, kept when it was cut (tail-repair.ts)
 *
 * Semantics follow Kafka: keys pick partitions (partitionForKey), offsets are per partition, a committed
 * offset is the next one to read, a group without commits starts at the beginning (or the end). Embedded
 * mode is single-node: one consumer per group owns every partition of its topics, so there are no
 * rebalances.
 *
 * A failed append (disk full, I/O error) is cut back to the last complete record, and a damaged tail left by a
 * crash is cut when a producer or consumer opens the partition (tail-repair.ts), so neither blocks what follows.
 *
 * Consumed values are subarrays of the chunk (up to readChunkBytes) they were read in; the chunk is never
 * reused, but it stays in memory while any value from it is referenced. Copy a value to keep it long.
 */
import {
  closeSync,
  constants as fsConstants,
  existsSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  read,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  partitionForKey,
  type ConsumedMessage,
  type Consumer,
  type ConsumerOptions,
  type Message,
  type PartitionBatch,
  type PartitionOffset,
  type Producer,
  type TopicPartition,
  type Transport,
} from '../../streams/kernel/transport/transport.ts';
import {
  CorruptLogError,
  decodeRecords,
  encodeRecords,
  FIRST_RECORD_POSITION,
  FORMAT_VERSION,
  type LogPoint,
  recordHeaderSize,
} from './format.ts';
import { acquireLock, releaseLock } from './lock.ts';
import { readFormatVersion, scanRecords } from './scan.ts';
import { checkTail, cutBackAfterFailedAppend, cutDamagedTail, type PartitionFile } from './tail-repair.ts';
import { registerWriter, unregisterWriter } from './writers.ts';

/** The write(2) appends go through (fs.writeSync's signature). */
export type WriteSync = (fd: number, buffer: Buffer, offset: number, length: number) => number;

export interface EmbeddedLogOptions {
  /** Root directory of the log, e.g. `${DRIFTLINE_HOME}/log`. Created if missing. */
  dir: string;
  /**
   * fsync (fdatasync) every partition file after each `send`, and group files before they replace the
   * old ones. Default false: `send` resolves once the data is in the OS page cache, which survives a
   * crash of the process (every other process sees it at once) but not a power loss or kernel crash;
   * the last few writes may then be lost or torn. With true, a send survives power loss too, at the
   * cost of a disk flush per send and partition (milliseconds each; fine for large batches, slow for
   * one-message sends).
   */
  fsync?: boolean;
  /** How often an idle `poll` re-checks file sizes for data appended by other processes. Default 20 ms. */
  pollIntervalMs?: number;
  /** Bytes read from a partition file per read call. Default 4 MB. */
  readChunkBytes?: number;
  /** Soft cap on bytes returned per partition per poll (one record is always allowed). Default 32 MB. */
  maxBatchBytes?: number;
  /** How long a producer trusts its cached partition count of a topic. Default 1000 ms. */
  metadataMaxAgeMs?: number;
  /** The write call appends use. Default fs.writeSync; fault tests inject ENOSPC or EIO here. */
  writeSync?: WriteSync;
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const MAX_MARKS = 1024;

function validateTopic(topic: string): void {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new Error(`embedded log: invalid topic name ${JSON.stringify(topic)} (allowed: 1-249 of [A-Za-z0-9._-])`);
  }
}

function groupFileName(group: string): string {
  if (typeof group !== 'string' || group.length === 0)
    throw new Error('embedded log: consumer group must be a non-empty string');
  return encodeURIComponent(group);
}

function isErrno(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === code;
}

function readJsonOrNull<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
}

function tmpName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Writes `data` to `path` atomically: a temp file in the same directory, then rename over the target. */
function writeFileAtomic(path: string, data: string | Buffer, fsync: boolean): void {
  const tmp = tmpName(path);
  const fd = openSync(tmp, 'w');
  try {
    try {
      writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data, writeSync);
      if (fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    unlinkQuiet(tmp); // a full disk must not also collect half-written temp files
    throw e;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * One write(2) in the normal case. On a local filesystem a write to an O_APPEND descriptor lands at the
 * then-current end of file and is not interleaved with other writers' data (Linux serialises writes to
 * an inode), so concurrent producer processes each append whole batches. A short write (disk full, a
 * signal) is finished with a second write, which could then interleave; that case is not atomic.
 * Network filesystems (NFS) give no such guarantee: keep the log on a local disk.
 */
function writeAll(fd: number, buf: Buffer, write: WriteSync): void {
  let done = 0;
  while (done < buf.length) done += write(fd, buf, done, buf.length - done);
}

function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = (): void => {
      read(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        done += n;
        if (n === 0 || done >= buf.length) resolve(done);
        else step();
      });
    };
    step();
  });
}

interface Closable {
  close(): Promise<void>;
}

export class EmbeddedLogTransport implements Transport {
  readonly kind = 'embedded' as const;
  readonly dir: string;
  readonly options: Readonly<Required<Omit<EmbeddedLogOptions, 'dir'>>>;
  private readonly partitionCache = new Map<string, { partitions: number; checkedAt: number }>();
  /** Known (next offset, position) per partition file, so end-of-log scans resume where the last ended. */
  private readonly endHints = new Map<string, LogPoint>();
  private readonly openClients = new Set<Closable>();
  private closed = false;

  constructor(options: EmbeddedLogOptions) {
    if (!options || typeof options.dir !== 'string' || options.dir === '')
      throw new Error('embedded log: options.dir is required');
    this.dir = options.dir;
    this.options = {
      fsync: options.fsync ?? false,
      pollIntervalMs: options.pollIntervalMs ?? 20,
      readChunkBytes: options.readChunkBytes ?? 4 * 1024 * 1024,
      maxBatchBytes: options.maxBatchBytes ?? 32 * 1024 * 1024,
      metadataMaxAgeMs: options.metadataMaxAgeMs ?? 1000,
      writeSync: options.writeSync ?? writeSync,
    };
    mkdirSync(this.dir, { recursive: true });
  }

  // ---- paths -------------------------------------------------------------------------------------

  topicDir(topic: string): string {
    validateTopic(topic);
    return join(this.dir, topic);
  }
  partitionFile(topic: string, partition: number): string {
    return join(this.topicDir(topic), `${partition}.log`);
  }
  private metaFile(topic: string): string {
    return join(this.topicDir(topic), 'meta.json');
  }
  groupsDir(topic: string): string {
    return join(this.topicDir(topic), 'groups');
  }
  groupFile(topic: string, group: string): string {
    return join(this.groupsDir(topic), `${groupFileName(group)}.json`);
  }
  lockFile(topic: string, group: string): string {
    return join(this.groupsDir(topic), `${groupFileName(group)}.lock`);
  }
  /** A partition file of `version`, as tail checks and cuts need it. */
  partitionRef(topic: string, partition: number, version: number): PartitionFile {
    return {
      topic,
      partition,
      file: this.partitionFile(topic, partition),
      topicDir: this.topicDir(topic),
      version,
      fsync: this.options.fsync,
    };
  }

  // ---- topics ------------------------------------------------------------------------------------

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    this.assertOpen();
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new Error(`embedded log: partitions must be a positive integer, got ${partitions}`);
    }
    mkdirSync(this.groupsDir(topic), { recursive: true });
    // Partition files first (each created complete and exclusively), then meta.json, so a reader that
    // sees a partition count always finds its files.
    for (let p = 0; p < partitions; p++) this.createPartitionFile(topic, p);
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = this.readPartitionCount(topic);
      let files = 0;
      while (existsSync(this.partitionFile(topic, files))) files++;
      // Another process may have added partitions concurrently: never write a smaller count.
      const target = Math.max(partitions, current, files);
      if (current >= target) {
        this.partitionCache.set(topic, { partitions: current, checkedAt: Date.now() });
        return;
      }
      writeFileAtomic(this.metaFile(topic), `${JSON.stringify({ partitions: target })}\n`, this.options.fsync);
    }
    throw new Error(`embedded log: could not update ${this.metaFile(topic)} (concurrent updates)`);
  }

  private createPartitionFile(topic: string, partition: number): void {
    const path = this.partitionFile(topic, partition);
    if (existsSync(path)) return;
    const tmp = tmpName(path);
    try {
      writeFileSync(tmp, Buffer.from([FORMAT_VERSION]));
      linkSync(tmp, path);
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    } finally {
      unlinkQuiet(tmp);
    }
  }

  private readPartitionCount(topic: string): number {
    const meta = readJsonOrNull<{ partitions?: unknown }>(this.metaFile(topic));
    if (meta === null) return 0;
    if (!Number.isInteger(meta.partitions) || (meta.partitions as number) < 1) {
      throw new Error(`embedded log: ${this.metaFile(topic)} has no valid "partitions"`);
    }
    return meta.partitions as number;
  }

  /** Partition count of a topic (0 if it does not exist), re-read from disk when older than maxAgeMs. */
  partitionCount(topic: string, maxAgeMs = this.options.metadataMaxAgeMs): number {
    const now = Date.now();
    const cached = this.partitionCache.get(topic);
    if (cached && now - cached.checkedAt < maxAgeMs) return cached.partitions;
    const partitions = this.readPartitionCount(topic);
    this.partitionCache.set(topic, { partitions, checkedAt: now });
    return partitions;
  }

  /** Next offset (record count) of each partition of `topic`, as of now. */
  async endOffsets(topic: string): Promise<number[]> {
    this.assertOpen();
    const n = this.partitionCount(topic, 0);
    const result: number[] = [];
    for (let p = 0; p < n; p++) {
      const fd = openSync(this.partitionFile(topic, p), 'r');
      try {
        result.push(this.findEnd(this.partitionFile(topic, p), fd).offset);
      } finally {
        closeSync(fd);
      }
    }
    return result;
  }

  /** The end of a partition file (last intact record), scanning on from the last known end. */
  findEnd(file: string, fd: number): LogPoint {
    const size = fstatSync(fd).size;
    const scan = scanRecords(
      fd,
      this.knownBoundary(file, size),
      Number.POSITIVE_INFINITY,
      size,
      readFormatVersion(fd, file),
    );
    const end = { offset: scan.offset, position: scan.position };
    this.endHints.set(file, end);
    return end;
  }

  /**
   * The furthest record boundary of `file` this transport knows, else the first record. A known boundary stays
   * one: a cut only ever removes bytes after the intact records every scan stopped at.
   */
  knownBoundary(file: string, size: number): LogPoint {
    const hint = this.endHints.get(file);
    return hint && hint.position <= size ? hint : { offset: 0, position: FIRST_RECORD_POSITION };
  }

  /** Records a boundary found intact (by a tail check), so later scans start there. */
  noteBoundary(file: string, point: LogPoint): void {
    const hint = this.endHints.get(file);
    if (!hint || hint.position < point.position) this.endHints.set(file, point);
  }

  // ---- clients -----------------------------------------------------------------------------------

  async producer(): Promise<Producer> {
    this.assertOpen();
    const producer = new EmbeddedProducer(this, () => this.openClients.delete(producer));
    this.openClients.add(producer);
    return producer;
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    this.assertOpen();
    const consumer = new EmbeddedConsumer(this, options, () => this.openClients.delete(consumer));
    this.openClients.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const client of [...this.openClients]) await client.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('embedded log: transport is closed');
  }
}

// ---- producer ------------------------------------------------------------------------------------

/** A partition file a producer appends to. */
interface AppendFile {
  fd: number;
  ref: PartitionFile;
  /** A record boundary at or before the end, known intact: where a cut-back scan starts. */
  intact: LogPoint;
}

class EmbeddedProducer implements Producer {
  private readonly files = new Map<string, AppendFile>();
  /** This producer's writer registration per topic (writers.ts). */
  private readonly registrations = new Map<string, string>();
  private roundRobin = 0;
  private closed = false;

  constructor(
    private readonly log: EmbeddedLogTransport,
    private readonly onClose: () => void,
  ) {}

  /**
   * Appends the messages, grouped per partition, with one write per partition; resolves after the
   * writes (and fsyncs, if configured). Writes are synchronous so that sends issued back to back without
   * awaiting keep their order; a write of a few MB blocks the event loop for about a millisecond.
   */
  async send(topic: string, messages: Message[]): Promise<void> {
    if (this.closed) throw new Error('embedded log: producer is closed');
    if (messages.length === 0) return;
    let n = this.log.partitionCount(topic);
    if (n === 0) n = this.log.partitionCount(topic, 0);
    if (n === 0) throw new Error(`embedded log: topic "${topic}" does not exist (call ensureTopic first)`);

    const groups: Message[][] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (typeof m.timestamp !== 'number') throw new TypeError(`embedded log: message ${i} has no numeric timestamp`);
      if (!(m.value instanceof Uint8Array)) throw new TypeError(`embedded log: message ${i} value is not a Buffer`);
      if (m.key !== null && typeof m.key !== 'string')
        throw new TypeError(`embedded log: message ${i} key is not a string or null`);
      let p: number;
      if (m.partition !== undefined) {
        p = m.partition;
        if (!Number.isInteger(p) || p < 0 || p >= n) {
          n = this.log.partitionCount(topic, 0); // maybe another process added partitions
          if (!Number.isInteger(p) || p < 0 || p >= n) {
            throw new RangeError(`embedded log: partition ${p} does not exist in topic "${topic}" (${n} partitions)`);
          }
        }
      } else if (m.key === null) {
        p = partitionForKey(null, n, this.roundRobin++);
      } else {
        p = partitionForKey(m.key, n, 0);
      }
      groups[p] ??= [];
      groups[p].push(m);
    }

    for (let p = 0; p < groups.length; p++) {
      const group = groups[p];
      if (group === undefined) continue;
      const target = this.file(topic, p);
      this.append(target, encodeRecords(group, target.ref.version), group.length);
    }
  }

  /** One append; a failed one is cut back to where it began, so a retry starts clean. */
  private append(target: AppendFile, buf: Buffer, records: number): void {
    const start = fstatSync(target.fd).size;
    try {
      writeAll(target.fd, buf, this.log.options.writeSync);
    } catch (e) {
      throw cutBackAfterFailedAppend(target.ref, target.fd, start, target.intact, e);
    }
    if (this.log.options.fsync) fdatasyncSync(target.fd);
    // The file grew by exactly this append after the last known boundary: nobody else wrote, so its end is one too.
    if (target.intact.position === start && fstatSync(target.fd).size === start + buf.length) {
      target.intact = { offset: target.intact.offset + records, position: start + buf.length };
    }
  }

  /** Opens a partition for appending: registers as a writer of the topic, then makes sure its tail is intact. */
  private file(topic: string, partition: number): AppendFile {
    const path = this.log.partitionFile(topic, partition);
    const open = this.files.get(path);
    if (open !== undefined) return open;
    if (!this.registrations.has(topic)) this.registrations.set(topic, registerWriter(this.log.topicDir(topic)));
    let fd: number;
    try {
      // No O_CREAT: a partition file is only ever created by ensureTopic, with its version byte. Read access is for
      // the tail check.
      fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_APPEND);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw new Error(`embedded log: partition file ${path} is missing`);
      throw e;
    }
    try {
      const ref = this.log.partitionRef(topic, partition, readFormatVersion(fd, path));
      const intact = checkTail(ref, fd, this.log.knownBoundary(path, fstatSync(fd).size));
      this.log.noteBoundary(path, intact);
      const file = { fd, ref, intact };
      this.files.set(path, file);
      return file;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { fd } of this.files.values()) closeSync(fd);
    this.files.clear();
    for (const registration of this.registrations.values()) unregisterWriter(registration);
    this.registrations.clear();
    this.onClose();
  }
}

// ---- consumer ------------------------------------------------------------------------------------

interface PartitionState {
  topic: string;
  partition: number;
  file: string;
  fd: number;
  ref: PartitionFile;
  /** Next offset to return. */
  offset: number;
  /** Byte position of that offset's record. */
  position: number;
  /** Last chunk read; records from `position` on may already be in it. Never overwritten once read. */
  chunk: Buffer | null;
  chunkStart: number;
  /** Recent (offset, position) pairs at batch boundaries, so commits need not rescan the file. */
  marks: LogPoint[];
}

interface CommittedEntry {
  offset: number;
  position: number;
}

interface GroupFile {
  partitions: Record<string, CommittedEntry>;
}

class EmbeddedConsumer implements Consumer {
  private readonly group: string;
  private readonly topics: string[];
  private readonly fromBeginning: boolean;
  private readonly maxBatchRecords: number;
  private readonly parts: PartitionState[] = [];
  private readonly partsByTopic = new Map<string, PartitionState[]>();
  private readonly committed = new Map<string, Record<string, CommittedEntry>>();
  private readonly locks: string[] = [];
  private lastAssignmentCheck = 0;
  private inflight: Promise<unknown> | null = null;
  private closed = false;

  constructor(
    private readonly log: EmbeddedLogTransport,
    options: ConsumerOptions,
    private readonly onClose: () => void,
  ) {
    this.group = options.group;
    this.topics = [...new Set(options.topics)];
    this.fromBeginning = options.fromBeginning ?? true;
    this.maxBatchRecords = options.maxBatchRecords ?? 10_000;
    if (!Number.isInteger(this.maxBatchRecords) || this.maxBatchRecords < 1) {
      throw new Error(`embedded log: maxBatchRecords must be a positive integer, got ${options.maxBatchRecords}`);
    }
    if (this.topics.length === 0) throw new Error('embedded log: a consumer needs at least one topic');
    groupFileName(this.group);
    try {
      for (const topic of this.topics) {
        mkdirSync(log.groupsDir(topic), { recursive: true });
        const lock = log.lockFile(topic, this.group);
        acquireLock(lock, `consumer group "${this.group}" of topic "${topic}"`);
        this.locks.push(lock);
        const saved = readJsonOrNull<GroupFile>(log.groupFile(topic, this.group));
        this.committed.set(topic, saved?.partitions ?? {});
        this.partsByTopic.set(topic, []);
      }
      this.refreshAssignment(true, true);
    } catch (e) {
      this.releaseResources();
      throw e;
    }
  }

  /** Picks up partitions created since the last check (new topics, ensureTopic with more partitions). */
  private refreshAssignment(force: boolean, initial = false): void {
    const now = Date.now();
    if (!force && now - this.lastAssignmentCheck < 500) return;
    this.lastAssignmentCheck = now;
    for (const topic of this.topics) {
      const list = this.partsByTopic.get(topic)!;
      const n = this.log.partitionCount(topic, 0);
      for (let p = list.length; p < n; p++) {
        const state = this.openPartition(topic, p, initial);
        list.push(state);
        this.parts.push(state);
      }
    }
  }

  /** Opens a partition at the group's position, after checking (and if safe, cutting) a damaged tail. */
  private openPartition(topic: string, partition: number, initial: boolean): PartitionState {
    const file = this.log.partitionFile(topic, partition);
    const fd = openSync(file, 'r');
    try {
      const ref = this.log.partitionRef(topic, partition, readFormatVersion(fd, file));
      const start = this.startPoint(ref, fd, initial);
      this.log.noteBoundary(file, checkTail(ref, fd, start));
      return {
        topic,
        partition,
        file,
        fd,
        ref,
        offset: start.offset,
        position: start.position,
        chunk: null,
        chunkStart: 0,
        marks: [start],
      };
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  private startPoint(ref: PartitionFile, fd: number, initial: boolean): LogPoint {
    const size = fstatSync(fd).size;
    const saved = this.committed.get(ref.topic)![String(ref.partition)];
    if (saved) {
      if (Number.isInteger(saved.position) && saved.position >= FIRST_RECORD_POSITION && saved.position <= size) {
        return { offset: saved.offset, position: saved.position };
      }
      const found = scanRecords(fd, { offset: 0, position: FIRST_RECORD_POSITION }, saved.offset, size, ref.version);
      return { offset: found.offset, position: found.position };
    }
    if (initial && !this.fromBeginning) return this.log.findEnd(ref.file, fd);
    // Partitions that appear after the consumer started are read from their beginning, since everything in them was
    // written after this consumer subscribed.
    return { offset: 0, position: FIRST_RECORD_POSITION };
  }

  async poll(waitMs: number): Promise<PartitionBatch[]> {
    if (this.closed) throw new Error('embedded log: consumer is closed');
    if (this.inflight) throw new Error('embedded log: poll called while another poll is in progress');
    const run = this.pollLoop(waitMs);
    this.inflight = run;
    try {
      return await run;
    } finally {
      this.inflight = null;
    }
  }

  private async pollLoop(waitMs: number): Promise<PartitionBatch[]> {
    const deadline = Date.now() + Math.max(0, waitMs);
    for (;;) {
      this.refreshAssignment(false);
      const batches: PartitionBatch[] = [];
      for (const state of this.parts) {
        const messages = await this.readPartition(state);
        if (messages.length > 0) batches.push({ topic: state.topic, partition: state.partition, messages });
      }
      if (batches.length > 0) return batches;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closed) return [];
      await sleep(Math.min(this.log.options.pollIntervalMs, remaining));
      if (this.closed) return [];
    }
  }

  /** Up to maxBatchRecords complete records from the state's position, reading big chunks. */
  private async readPartition(st: PartitionState): Promise<ConsumedMessage[]> {
    const out: ConsumedMessage[] = [];
    const max = this.maxBatchRecords;
    const { readChunkBytes, maxBatchBytes } = this.log.options;
    const header = recordHeaderSize(st.ref.version);
    const size = fstatSync(st.fd).size;
    let budget = maxBatchBytes;
    let fresh = false; // whether st.chunk was read by this call
    for (;;) {
      if (st.chunk !== null) {
        const chunk = st.chunk;
        const start = st.position - st.chunkStart;
        if (start >= 0 && start < chunk.length) {
          const r = decodeRecords(chunk, start, st.ref, st.offset, max - out.length, budget, out);
          const consumed = r.end - start;
          st.position += consumed;
          st.offset += r.count;
          budget -= consumed;
          if (r.corrupt !== undefined) {
            if (out.length > 0) break; // hand out the records before it first
            if (fresh) {
              this.cutCorruptTail(st, r.corrupt);
              break;
            }
            st.chunk = null; // an older chunk may hold bytes cut since: look at the file again
            continue;
          }
          if (out.length >= max || budget <= 0) break;
          // Stopped before the end of the chunk with a complete record left: the byte budget is spent.
          if (r.end + header <= chunk.length && r.end + header + chunk.readUInt32LE(r.end) <= chunk.length) break;
        }
      }
      const avail = size - st.position;
      if (avail < header) break;
      // The length comes from the file, not the chunk: bytes after the intact records may have been cut and
      // rewritten since the chunk was read (tail-repair.ts).
      const head = Buffer.allocUnsafe(4);
      if (readSync(st.fd, head, 0, 4, st.position) < 4) break;
      const need = header + head.readUInt32LE(0);
      if (need > avail) break; // the last record is still being written: wait for the rest
      if (out.length > 0 && need > budget) break;
      const want = Math.max(need, Math.min(readChunkBytes, avail));
      const chunk = Buffer.allocUnsafe(want);
      const got = await readAt(st.fd, chunk, st.position);
      st.chunk = got < want ? chunk.subarray(0, got) : chunk;
      st.chunkStart = st.position;
      fresh = true;
      if (got < need) break;
    }
    if (out.length > 0) {
      st.marks.push({ offset: st.offset, position: st.position });
      if (st.marks.length > MAX_MARKS) st.marks.splice(0, st.marks.length - MAX_MARKS / 2);
    }
    return out;
  }

  /**
   * The record at the state's position cannot be read (`detail`): cut the tail there (tail-repair.ts), or throw
   * when that is not safe now.
   */
  private cutCorruptTail(st: PartitionState, detail: string): void {
    const after = cutDamagedTail(st.ref, st.fd, st);
    st.chunk = null; // its bytes from the position on are gone
    if (after.position !== st.position || after.damage) throw new CorruptLogError(st.file, st.position, detail);
  }

  async commit(offsets: PartitionOffset[]): Promise<void> {
    if (this.closed) throw new Error('embedded log: consumer is closed');
    const touched = new Set<string>();
    for (const { topic, partition, offset } of offsets) {
      if (!this.partsByTopic.has(topic)) {
        throw new Error(
          `embedded log: cannot commit ${topic}/${partition}: consumer group "${this.group}" is not subscribed to ` +
            `"${topic}"`,
        );
      }
      if (!Number.isInteger(offset) || offset < 0)
        throw new RangeError(`embedded log: invalid offset ${offset} for ${topic}/${partition}`);
      let st = this.partsByTopic.get(topic)![partition];
      if (!st) {
        this.refreshAssignment(true);
        st = this.partsByTopic.get(topic)![partition];
        if (!st) throw new RangeError(`embedded log: partition ${partition} does not exist in topic "${topic}"`);
      }
      const position = this.locate(st, offset);
      this.committed.get(topic)![String(partition)] = { offset, position };
      touched.add(topic);
    }
    for (const topic of touched) {
      const body: GroupFile = { partitions: this.committed.get(topic)! };
      writeFileAtomic(this.log.groupFile(topic, this.group), `${JSON.stringify(body)}\n`, this.log.options.fsync);
    }
  }

  /** Byte position of `offset` in the partition, from the nearest known boundary at or before it. */
  private locate(st: PartitionState, offset: number): number {
    if (offset === st.offset) return st.position;
    let best: LogPoint = { offset: 0, position: FIRST_RECORD_POSITION };
    for (const mark of st.marks) if (mark.offset <= offset && mark.offset >= best.offset) best = mark;
    const saved = this.committed.get(st.topic)![String(st.partition)];
    if (saved && saved.offset <= offset && saved.offset > best.offset && saved.position >= FIRST_RECORD_POSITION)
      best = saved;
    if (best.offset === offset) return best.position;
    const found = scanRecords(st.fd, best, offset, fstatSync(st.fd).size, st.ref.version);
    if (found.offset !== offset) {
      throw new RangeError(
        `embedded log: cannot commit offset ${offset} for ${st.topic}/${st.partition}: the partition ends at ` +
          `offset ${found.offset}`,
      );
    }
    st.marks.push(found);
    return found.position;
  }

  async caughtUp(): Promise<boolean> {
    if (this.closed) throw new Error('embedded log: consumer is closed');
    this.refreshAssignment(true);
    for (const st of this.parts) {
      if (st.position >= fstatSync(st.fd).size) continue;
      // Nothing more to read, yet bytes remain: a write in flight, or a tail torn by a writer that is gone (cut
      // now, so that --until-idle ends).
      checkTail(st.ref, st.fd, st);
      if (st.position < fstatSync(st.fd).size) return false;
    }
    return true;
  }

  /** Embedded mode never rebalances, so listeners are kept but never called. */
  onRevoked(_listener: (partitions: TopicPartition[]) => void): void {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inflight) await this.inflight.catch(() => undefined);
    this.releaseResources();
    this.onClose();
  }

  private releaseResources(): void {
    for (const st of this.parts) {
      try {
        closeSync(st.fd);
      } catch {
        /* ignore */
      }
      st.chunk = null;
    }
    this.parts.length = 0;
    for (const lock of this.locks) releaseLock(lock);
    this.locks.length = 0;
  }
}
