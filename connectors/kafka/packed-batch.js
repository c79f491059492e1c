// A batch of messages as a few flat arrays for the trip to the producer thread (producer-thread.js). Cloned one by
// one, each value is copied twice (serialised, then deserialised) and arrives as a Uint8Array to re-wrap; packed,
// the values are copied once into one ArrayBuffer that is transferred, not copied, and the thread takes Buffer views
// of it. Plain JavaScript on purpose: the thread imports it as it is (see producer-thread.js).

/**
 * @param {{ key: string | null, value: Buffer, timestamp: number, partition?: number, headers?: object }[]} messages
 * @returns {{ batch: object, transfer: ArrayBuffer[] }} the packed batch and what to transfer with it
 */
export function packBatch(messages) {
  const count = messages.length;
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += messages[i].value.byteLength;
  const values = new Uint8Array(bytes);
  const ends = new Int32Array(count);
  const timestamps = new Float64Array(count);
  const partitions = new Int32Array(count);
  const keys = new Array(count);
  let headers;
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const m = messages[i];
    values.set(m.value, offset);
    offset += m.value.byteLength;
    ends[i] = offset;
    timestamps[i] = Math.trunc(m.timestamp);
    partitions[i] = m.partition ?? -1;
    keys[i] = m.key;
    if (m.headers) {
      headers ??= new Array(count);
      headers[i] = m.headers;
    }
  }
  const batch = { values: values.buffer, ends, timestamps, partitions, keys, headers };
  return { batch, transfer: [values.buffer, ends.buffer, timestamps.buffer, partitions.buffer] };
}

/** The messages of a packed batch as kafkajs takes them; values are views of the one transferred buffer. */
export function unpackBatch({ values, ends, timestamps, partitions, keys, headers }) {
  const messages = new Array(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const partition = partitions[i];
    messages[i] = {
      key: keys[i],
      value: Buffer.from(values, start, ends[i] - start),
      timestamp: String(timestamps[i]),
      headers: headers?.[i],
      partition: partition < 0 ? undefined : partition,
    };
    start = ends[i];
  }
  return messages;
}
