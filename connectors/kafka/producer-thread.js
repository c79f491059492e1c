// A kafkajs producer on its own thread: encoding record batches is the most expensive part of producing with
// kafkajs, and on a 2-core machine it would otherwise share the event loop with consuming and processing.
// Plain JavaScript on purpose: worker threads do not inherit the tsx loader when driftline starts through its
// register API, so this file must run as it is.
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, Partitioners, logLevel } from 'kafkajs';

const kafka = new Kafka({ clientId: workerData.clientId, brokers: workerData.brokers, logLevel: logLevel.ERROR, retry: { retries: 8, initialRetryTime: 200 } });

async function connect() {
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 5 });
  await producer.connect();
  return producer;
}

let producer = connect();

parentPort.on('message', async (request) => {
  try {
    if (request.type === 'send') {
      // Buffers arrive as plain Uint8Arrays after crossing the thread boundary; kafkajs needs Buffers.
      for (const m of request.messages) m.value = Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength);
      await (await producer).send({ topic: request.topic, acks: -1, messages: request.messages });
    } else if (request.type === 'reconnect') {
      await (await producer).disconnect();
      producer = connect();
      await producer;
    } else if (request.type === 'close') {
      await (await producer).disconnect();
    }
    parentPort.postMessage({ id: request.id });
  } catch (error) {
    parentPort.postMessage({ id: request.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
