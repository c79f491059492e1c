/**
 * Cheap image-header sniffing: format, width, height and channel count from the first bytes of a
 * JPEG or PNG, without decoding pixels. Used by the camera sources (to fill in CameraFrame metadata)
 * and by the frame normalizer (to reject absurd sizes before handing bytes to a decoder).
 */

export type ImageFormat = 'jpeg' | 'png';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  channels: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function sniffFormat(data: Uint8Array): ImageFormat | null {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  if (data.length >= 8 && PNG_SIGNATURE.every((b, i) => data[i] === b)) return 'png';
  return null;
}

/** Throws an Error saying what is wrong when the bytes do not start with a readable JPEG/PNG header. */
export function readImageHeader(data: Uint8Array): ImageHeader {
  if (data.length === 0) throw new Error('image data is empty (0 bytes)');
  const format = sniffFormat(data);
  if (format === 'jpeg') return readJpegHeader(data);
  if (format === 'png') return readPngHeader(data);
  throw new Error(`not a JPEG or PNG image (first bytes ${hex(data.subarray(0, 8))})`);
}

/** Like `readImageHeader`, but null instead of throwing. */
export function tryReadImageHeader(data: Uint8Array): ImageHeader | null {
  try {
    return readImageHeader(data);
  } catch {
    return null;
  }
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

function readPngHeader(data: Uint8Array): ImageHeader {
  // signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4) + depth (1) + colour type (1)
  if (data.length < 26) throw new Error(`PNG data is corrupt: ${data.length} bytes, too short for an IHDR chunk`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const type = String.fromCharCode(data[12]!, data[13]!, data[14]!, data[15]!);
  if (type !== 'IHDR') throw new Error(`PNG data is corrupt: first chunk is "${type}", expected IHDR`);
  const channels = PNG_CHANNELS[data[25]!];
  if (channels === undefined) throw new Error(`PNG data is corrupt: invalid colour type ${data[25]}`);
  return { format: 'png', width: view.getUint32(16), height: view.getUint32(20), channels };
}

function readJpegHeader(data: Uint8Array): ImageHeader {
  let pos = 2;
  while (pos + 4 <= data.length) {
    if (data[pos] !== 0xff)
      throw new Error(
        `JPEG data is corrupt: expected a marker at byte ${pos}, found 0x${hex(data.subarray(pos, pos + 1))}`,
      );
    const marker = data[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda)
      throw new Error('JPEG data is corrupt: no frame header (SOF) before the image data');
    const length = (data[pos + 2]! << 8) | data[pos + 3]!;
    if (length < 2) throw new Error(`JPEG data is corrupt: segment length ${length} at byte ${pos}`);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (pos + 10 > data.length) break;
      const height = (data[pos + 5]! << 8) | data[pos + 6]!;
      const width = (data[pos + 7]! << 8) | data[pos + 8]!;
      const channels = data[pos + 9]!;
      return { format: 'jpeg', width, height, channels };
    }
    pos += 2 + length;
  }
  throw new Error(`JPEG data is corrupt: truncated before the frame header (${data.length} bytes)`);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
