// A kafkajs producer on its own thread: encoding record batches is the most expensive part of producing with
// kafkajs, and on a 2-core machine it would otherwise share the event loop with consuming and processing. The
// requests and their handling are in producer-requests.js; batches arrive packed (packed-batch.js).
// Plain JavaScript on purpose: worker threads do not inherit the tsx loader when driftline starts through its
// register API, so this file must run as it is.
import { parentPort, workerData } from 'node:worker_threads';
import { producerRequests } from './producer-requests.js';

const handle = producerRequests(workerData);

parentPort.on('message', async (request) => {
  parentPort.postMessage({ id: request.id, ...(await handle(request)) });
});
