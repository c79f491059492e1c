import { inputErrorOf } from '../../input-error.ts';
import { withValue } from '../../record.ts';
import type { Stage } from '../../stage.ts';
import { perRecordStage } from './record-function.ts';

export interface DecodeJsonOptions<T> {
  /** Larger values are rejected before parsing. Default 1 MiB. */
  maxBytes?: number;
  /** Checks the parsed value and returns it typed; throw with a reason a person understands to reject it. */
  validate?: (value: unknown) => T;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes → UTF-8 text → JSON → validated value. Every failure becomes a dead letter with its reason, as does a
 * record its reader already flagged as broken input (input-error.ts).
 */
export function decodeJson<T = unknown>(name: string, options: DecodeJsonOptions<T> = {}): Stage<Buffer, T> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const validate = options.validate ?? ((v: unknown) => v as T);
  return perRecordStage<Buffer, T>(name, (record, output) => {
    const flagged = inputErrorOf(record);
    if (flagged !== undefined) throw new Error(flagged);
    const bytes = record.value;
    if (bytes.length > maxBytes) throw new Error(`value is ${bytes.length} bytes, above the ${maxBytes}-byte limit`);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new Error('value is not valid UTF-8');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(`value is not valid JSON: ${(error as Error).message}`);
    }
    output.push(withValue(record, validate(parsed)));
  });
}
