// The kafkajs producer's side of the transport's producers: the requests the transport sends it (send, reconnect,
// transaction, close), answered with a reply that says whether and how one failed. The producer thread
// (producer-thread.js) runs it on its own thread; `producerThread: false` in the transport runs it on the caller's.
// Plain JavaScript on purpose: worker threads do not inherit the tsx loader when driftline starts through its
// register API, so the thread's files must run as they are.
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { isBrokerUnreachable, isConnectionNoise } from './broker-errors.js';
import { unpackBatch } from './packed-batch.js';

/**
 * @param {{ brokers: string[], clientId: string, ssl?: object, sasl?: object }} config ssl and sasl: the parent's
 *   kafkajs security settings (client-security.ts), so this producer connects as the transport does.
 * @returns {(request: object) => Promise<{ error?: string, unreachable?: boolean }>}
 */
export function producerRequests({ brokers, clientId, ssl, sasl }) {
  const kafka = new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.ERROR,
    logCreator: scrubbedLogCreator,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    ssl,
    sasl,
  });

  /** kafkajs' error lines on stderr, with the secrets this thread holds scrubbed (config/redact.ts is TypeScript). */
  function scrubbedLogCreator() {
    const secrets = [sasl?.password, ssl?.passphrase].filter((s) => typeof s === 'string' && s.length > 0);
    return ({ log }) => {
      let text = `kafkajs: ${log.message}${log.error ? `: ${log.error}` : ''}`;
      if (isConnectionNoise(text)) return; // the main thread tells a broker outage once (broker-outage.ts)
      for (const secret of secrets) text = text.split(secret).join('***');
      process.stderr.write(`${text}\n`);
    };
  }

  /** The connected producer, or null after a failure: the next request connects afresh (a broker may restart). */
  let producer = null;

  function connected() {
    producer ??= (async () => {
      const p = kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        maxInFlightRequests: 5,
      });
      await p.connect();
      return p;
    })().catch((error) => {
      producer = null;
      throw error;
    });
    return producer;
  }

  async function disconnect() {
    const current = producer;
    producer = null;
    if (current) await (await current.catch(() => null))?.disconnect();
  }

  /** The transactional producer of an exactly-once run (transaction-outbox.ts), with its transactional id. */
  let transactional = null;

  function transactionalProducer(transactionalId) {
    if (transactional?.id !== transactionalId) {
      void closeTransactional(); // the partition set changed: a new id (the old one is fenced by its next owner)
      const connecting = (async () => {
        const p = kafka.producer({
          transactionalId,
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          createPartitioner: Partitioners.DefaultPartitioner,
        });
        await p.connect();
        return p;
      })();
      transactional = { id: transactionalId, producer: connecting };
      connecting.catch(() => {
        if (transactional?.producer === connecting) transactional = null;
      });
    }
    return transactional.producer;
  }

  async function closeTransactional() {
    const current = transactional;
    transactional = null;
    if (current) await (await current.producer.catch(() => null))?.disconnect();
  }

  /**
   * One transaction: the messages, then the consumer's offsets, committed together. The first transaction of an id
   * registers it with the broker, which aborts whatever a killed worker with the same id left open and fences it.
   */
  async function runTransaction({ transactionalId, topicMessages, offsets }) {
    const producer = await transactionalProducer(transactionalId);
    const transaction = await producer.transaction();
    try {
      for (const t of topicMessages) for (const m of t.messages) m.value = asBuffer(m.value);
      if (topicMessages.length > 0) await transaction.sendBatch({ topicMessages, acks: -1 });
      if (offsets.topics.length > 0) await transaction.sendOffsets(offsets);
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => {});
      await closeTransactional(); // a fenced or failed producer is not reused: the next transaction starts afresh
      throw error;
    }
  }

  return async (request) => {
    try {
      if (request.type === 'send') {
        // From the thread's parent a packed batch (packed-batch.js); on the caller's thread the messages themselves.
        const messages = request.batch ? unpackBatch(request.batch) : request.messages;
        await (await connected()).send({ topic: request.topic, acks: -1, messages });
      } else if (request.type === 'reconnect') {
        await disconnect();
        await connected();
      } else if (request.type === 'transaction') {
        await runTransaction(request);
      } else if (request.type === 'close') {
        await disconnect();
        await closeTransactional();
      }
      return {};
    } catch (error) {
      const unreachable = isBrokerUnreachable(error);
      if (unreachable) await disconnect().catch(() => {}); // reconnect on the next request
      return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), unreachable };
    }
  };
}

/** Transaction messages from another thread are cloned: buffers arrive as plain Uint8Arrays; kafkajs needs Buffers. */
const asBuffer = (bytes) =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
