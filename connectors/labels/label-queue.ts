/**
 * Reads the label queue (`label_queue`, filled by the uncertainty-sample operator) of one pipeline from the
 * warehouse, with the input a person needs to label each record: a posting's title and text, or a frame's image
 * (read from the file the frame came from, as a data URI, so Label Studio shows it with no file server or network).
 * Records that already have a label are left out unless asked for.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { num, sqlString, type Row, type WarehouseReader } from '../warehouse/warehouse-reader.ts';
import type { LabelStudioProject } from './label-studio-config.ts';
import { byUncertainty, type LabelStudioTask, labelStudioTask, type QueuedPrediction } from './label-studio-tasks.ts';

export interface LabelQueueOptions {
  /** Also export records that already have a label (default: only unlabelled ones). */
  includeLabelled?: boolean;
  /** At most this many tasks, the most uncertain (default: all). */
  limit?: number;
}

export interface LabelQueueExport {
  tasks: LabelStudioTask[];
  /** Queued records left out because their input could not be found, with why. */
  missing: { record_id: string; reason: string }[];
  /** Queued records left out because they already have a label. */
  labelled: number;
}

/** A record's task data, or why there is none. */
type Input = Record<string, unknown> | string;

/** `IN (…)` lists are sent in chunks of this many ids. */
const CHUNK = 500;
const MIME: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png' };
const QUEUE_COLUMNS =
  'record_id, model_id, model_version, score, method, top_probability, predicted_label, reason, window_start';

export async function readLabelQueue(
  reader: WarehouseReader,
  project: LabelStudioProject,
  options: LabelQueueOptions = {},
): Promise<LabelQueueExport> {
  const where = `pipeline = ${sqlString(project.pipeline)}`;
  const rows = await reader.rows(`SELECT ${QUEUE_COLUMNS} FROM ${reader.from('label_queue')} WHERE ${where}`);
  const byRecord = new Map<string, QueuedPrediction[]>();
  for (const r of rows) {
    const q = queuedPrediction(r);
    byRecord.set(q.record_id, [...(byRecord.get(q.record_id) ?? []), q]);
  }
  let labelled = 0;
  if (!options.includeLabelled) {
    for (const id of await labelledIds(reader, [...byRecord.keys()])) {
      if (byRecord.delete(id)) labelled++;
    }
  }
  // Most uncertain first, so --limit keeps the records worth a label most, and inputs are read only for those.
  const uncertainty = (qs: QueuedPrediction[]) => Math.max(...qs.map((q) => q.score));
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const order = [...byRecord.entries()].sort(([a, x], [b, y]) => uncertainty(y) - uncertainty(x) || byId(a, b));
  const picked = order.slice(0, options.limit ?? order.length);
  const ids = picked.map(([id]) => id);
  const inputs = project.input === 'text' ? await postingInputs(reader, ids) : await frameInputs(reader, ids);
  const tasks: LabelStudioTask[] = [];
  const missing: LabelQueueExport['missing'] = [];
  for (const [id, queued] of picked) {
    const input = inputs.get(id) ?? `no ${project.pipeline} row with id ${id} in the warehouse`;
    if (typeof input === 'string') missing.push({ record_id: id, reason: input });
    else tasks.push(labelStudioTask(project, input, queued));
  }
  return { tasks: tasks.sort(byUncertainty), missing, labelled };
}

function queuedPrediction(r: Row): QueuedPrediction {
  return {
    record_id: String(r.record_id),
    model_id: String(r.model_id),
    model_version: String(r.model_version),
    score: num(r.score) ?? 0,
    method: String(r.method),
    top_probability: num(r.top_probability) ?? 0,
    predicted_label: num(r.predicted_label) ?? 0,
    reason: String(r.reason),
    window_start: num(r.window_start) ?? 0,
  };
}

/** Runs `sql(idList)` over the ids in chunks and returns every row. */
async function rowsForIds(reader: WarehouseReader, ids: string[], sql: (idList: string) => string): Promise<Row[]> {
  const out: Row[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    out.push(
      ...(await reader.rows(
        sql(
          ids
            .slice(i, i + CHUNK)
            .map(sqlString)
            .join(', '),
        ),
      )),
    );
  }
  return out;
}

async function labelledIds(reader: WarehouseReader, ids: string[]): Promise<string[]> {
  const from = reader.from('labels');
  const rows = await rowsForIds(reader, ids, (list) => `SELECT record_id FROM ${from} WHERE record_id IN (${list})`);
  return [...new Set(rows.map((r) => String(r.record_id)))];
}

/** Posting id → task data: `text` is the title and the plain-text description, `title` shown above it. */
async function postingInputs(reader: WarehouseReader, ids: string[]): Promise<Map<string, Input>> {
  const columns = 'id, title, company, location, url, description';
  const from = reader.from('postings');
  const rows = await rowsForIds(reader, ids, (list) => `SELECT ${columns} FROM ${from} WHERE id IN (${list})`);
  const out = new Map<string, Input>();
  for (const p of rows) {
    const title = String(p.title ?? '');
    const text = `${title}\n\n${String(p.description ?? '')}`;
    const { company = null, location = null, url = null } = p;
    out.set(String(p.id), { title, company, location, url, text });
  }
  return out;
}

/** Frame id → task data with the image as a data URI, or the reason it cannot be shown. */
async function frameInputs(reader: WarehouseReader, ids: string[]): Promise<Map<string, Input>> {
  const columns = 'id, camera_id, sequence, encoding, file';
  const from = reader.from('frames');
  const rows = await rowsForIds(reader, ids, (list) => `SELECT ${columns} FROM ${from} WHERE id IN (${list})`);
  const out = new Map<string, Input>();
  for (const f of rows) out.set(String(f.id), await frameInput(f));
  return out;
}

async function frameInput(f: Row): Promise<Input> {
  const id = String(f.id);
  const mime = MIME[String(f.encoding)];
  const file = f.file === null || f.file === undefined ? null : String(f.file);
  if (!file) return `frame ${id} came from no file (the warehouse keeps no pixels): there is no image to show`;
  if (!mime) return `frame ${id} is ${String(f.encoding)}, not an image format a browser shows (jpeg, png)`;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    return `frame ${id}: cannot read its image ${file}: ${(error as Error).message}`;
  }
  const image = `data:${mime};base64,${bytes.toString('base64')}`;
  return { image, file: basename(file), camera_id: String(f.camera_id), sequence: num(f.sequence) };
}
