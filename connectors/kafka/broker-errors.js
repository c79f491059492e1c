// Which kafkajs errors mean "the broker cannot be reached right now" (a restart, a network blip) rather than
// "this request is wrong" (bad credentials, an unknown topic, a message too large). Only the first kind is
// worth waiting out. Plain JavaScript: producer-thread.js runs without the TypeScript loader and imports it too.

const UNREACHABLE_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const AUTH_ERROR = /SASL|Authentication|SSL|certificate/i;

/**
 * True when `error` (or an error it wraps) says the broker is unreachable or not ready: a connection error, a
 * socket error, a protocol error kafkajs marks retriable (leader or coordinator not available yet), or a
 * TypeError from inside kafkajs while its metadata is still empty after a restart.
 * Authentication and TLS failures are never "unreachable": retrying them only hides the fix.
 * @param {unknown} error
 * @returns {boolean}
 */
export function isBrokerUnreachable(error) {
  let found = false;
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 8; e = e.cause, depth++) {
    const name = String(e.name ?? '');
    if (AUTH_ERROR.test(name)) return false;
    if (UNREACHABLE_ERRORS.has(name) || SOCKET_CODES.has(e.code) || e.retriable === true) found = true;
    if (
      typeof e.message === 'string' &&
      /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection (error|timeout)/.test(e.message)
    )
      found = true;
    // kafkajs reads its cached metadata without a null check; right after a broker restart that cache can be empty
    // ("Cannot destructure property 'topicMetadata' … as it is null"). The next attempt finds it loaded.
    if (name === 'TypeError' && typeof e.stack === 'string' && e.stack.includes('/kafkajs/')) found = true;
  }
  return found;
}

const CONNECTION_NOISE = new RegExp(
  [
    'ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection (error|timeout)|Closed connection|seed broker',
    'No broker available|Crash: KafkaJS(NumberOfRetriesExceeded|Connection|NoBrokerAvailable)|Restarting the consumer',
  ].join('|'),
  'i',
);

/**
 * True for a kafkajs log line that only reports one attempt to reach a broker. BrokerOutage tells an outage once,
 * so these are dropped; errors that are not about reaching the broker still reach the log.
 * @param {string} text
 * @returns {boolean}
 */
export function isConnectionNoise(text) {
  return CONNECTION_NOISE.test(text);
}
