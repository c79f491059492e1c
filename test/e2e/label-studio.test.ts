/**
 * The labelling queue's round trip through a real Label Studio (pip-installed and started by
 * `bash scripts/services.sh label-studio-up`): a small postings run fills `label_queue` in ClickHouse,
 * `driftline label export --format label-studio` writes the tasks and the config, a project is made with that
 * config through Label Studio's REST API, the tasks imported, annotations posted, the project exported as JSON,
 * and `driftline label import` + `driftline run labels` land the labels beside their predictions.
 *
 * On a fresh machine Label Studio's install and first start take minutes: test/global-setup.ts begins them in the
 * background when the run starts (test/e2e/label-studio-setup.ts), and this file's `label-studio-up` waits for that,
 * alongside its own model training and postings run. Skipped only where Label Studio cannot be had at all: no
 * Python 3.10+ with venv, and no apt-get as root to install it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLabels } from '../../connectors/labels/label-format.ts';
import { NEU_DET_CLASSES } from '../../connectors/labels/label-studio-config.ts';
import type { LabelStudioTask } from '../../connectors/labels/label-studio-tasks.ts';
import { openWarehouse, type Warehouse } from '../../connectors/warehouse/warehouse.ts';
import { DEFAULT_LABEL_CLASSES } from '../../streams/pipelines/labels.ts';
import { dataDir, dataFile } from '../data-dir.ts';
import { readAll, testKafka, uniqueName } from '../kafka/kafka-test-helpers.ts';
import { driftlineOk } from './cli.ts';

const servicesDir = process.env.DRIFTLINE_SERVICES_DIR ?? '.services';

/** Why Label Studio cannot be installed here, or '' when it is installed or can be (scripts/services.sh does it). */
function unavailable(): string {
  if (existsSync(join(servicesDir, 'label-studio', 'venv', 'bin', 'label-studio'))) return '';
  const check = 'import sys, ensurepip; sys.exit(sys.version_info < (3, 10))';
  const python = spawnSync('python3', ['-c', check], { stdio: 'ignore' });
  if (python.status === 0) return '';
  const root = process.getuid?.() === 0;
  if (root && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0) return '';
  const found = python.error ? 'no python3' : 'python3 is older than 3.10 or has no venv (ensurepip)';
  const fix = 'apt-get install -y python3 python3-venv';
  return `${found}, and ${root ? 'no apt-get' : 'not root'} to install it; run: ${root ? fix : `sudo ${fix}`}`;
}
const skipReason = unavailable();
if (skipReason) process.stderr.write(`label-studio.test: skipped, Label Studio cannot be had here: ${skipReason}\n`);
const port = Number(process.env.LABEL_STUDIO_PORT ?? 8089);
const studio = `http://127.0.0.1:${port}`;
const dir = mkdtempSync(join(tmpdir(), 'driftline-label-studio-'));
const database = `driftline_ls_${Date.now().toString(36)}`;
const env = {
  DRIFTLINE_TOPIC_PREFIX: `${uniqueName('ls')}.`,
  CLICKHOUSE_DATABASE: database,
  DRIFTLINE_HOME: join(dir, 'home'),
  DRIFTLINE_MODELS_MANIFEST: join(dir, 'models.json'),
};
const kafka = testKafka();
let clickhouse: Warehouse;
let token = '';
let projectId = 0;

type StudioTask = { id: number; data: Record<string, unknown> };
type ExportedTask = { data: { record_id?: string }; annotations: { updated_at: string }[] };

/** Label Studio's REST API with the first user's token; fails with the response body on a non-2xx status. */
async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${studio}${path}`, {
    method,
    headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : null) as T;
}

const choice = (label: string) => [
  { from_name: 'label', to_name: 'text', type: 'choices', value: { choices: [label] } },
];

/**
 * `bash scripts/services.sh label-studio-up`: instant when it runs, else it waits for the background start (or
 * installs and starts Label Studio itself). Fails with the script's own error, which names the fix.
 */
async function labelStudioUp(): Promise<void> {
  const studioEnv = { ...process.env, LABEL_STUDIO_PORT: String(port) };
  try {
    const up = await promisify(execFile)('bash', ['scripts/services.sh', 'label-studio-up'], { env: studioEnv });
    process.stderr.write(up.stdout);
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(
      `\`bash scripts/services.sh label-studio-up\` failed:\n${stdout}${stderr}` +
        `(logs: ${servicesDir}/logs/label-studio-up.log, label-studio-pip.log, label-studio.log)`,
      { cause: err },
    );
  }
  token = readFileSync(join(servicesDir, 'label-studio', 'token'), 'utf8').trim();
}

beforeAll(async () => {
  if (skipReason) return;
  // Label Studio comes up (or its background start is waited for) while the models train and the postings run.
  const settled = await Promise.allSettled([labelStudioUp(), fillLabelQueue()]);
  for (const result of settled) if (result.status === 'rejected') throw result.reason;
}, 1_800_000);

/** The postings models trained, then one postings run: `label_queue` filled in this test's own ClickHouse database. */
async function fillLabelQueue(): Promise<void> {
  const clickhouseUrl = process.env.CLICKHOUSE_URL;
  clickhouse = await openWarehouse({ home: env.DRIFTLINE_HOME, clickhouseUrl, clickhouseDatabase: database });
  writeFileSync(env.DRIFTLINE_MODELS_MANIFEST, '{"models":[]}');
  await driftlineOk(['models', 'train', 'postings', '--data', dataDir()], env);
  // One collection run of 2026 HN postings (343), no truth file: the queue is all unlabelled. No fine-tunes.
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ pipelines: { postings: { train: false } } }));
  const input = dataFile('postings', 'hn-hiring-2026', '2026-03-15', 'raw.json');
  await driftlineOk(['run', 'postings', '--input', input, '--until-idle', '--config', config], env);
}

afterAll(async () => {
  if (skipReason) return;
  if (projectId) await api('DELETE', `/api/projects/${projectId}/`).catch(() => {});
  await clickhouse?.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
  await clickhouse?.close();
  await kafka.close();
});

const num = (v: unknown) => Number(v);

/** Posts an annotation per record (by record id) in the project; `null` skips the task (was_cancelled). */
async function annotate(labels: Map<string, string | null>): Promise<void> {
  const tasks = await api<StudioTask[]>('GET', `/api/projects/${projectId}/tasks/?page_size=1000`);
  for (const [recordId, label] of labels) {
    const task = tasks.find((t) => String(t.data.record_id ?? t.data.title) === recordId)!;
    const annotation = label === null ? { result: [], was_cancelled: true } : { result: choice(label) };
    await api('POST', `/api/tasks/${task.id}/annotations/`, annotation);
  }
}

/** The project as Label Studio's JSON export, with the annotators' details (an export snapshot, downloaded). */
async function exportProject(): Promise<ExportedTask[]> {
  const options = { annotations__completed_by: { only_id: false } };
  const snapshot = await api<{ id: number }>('POST', `/api/projects/${projectId}/exports/`, {
    title: 'driftline',
    serialization_options: options,
  });
  const status = () => api<{ status: string }>('GET', `/api/projects/${projectId}/exports/${snapshot.id}`);
  for (let i = 0; i < 60 && (await status()).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 500));
  return api<ExportedTask[]>('GET', `/api/projects/${projectId}/exports/${snapshot.id}/download?exportType=JSON`);
}

describe.skipIf(skipReason !== '')(
  'label queue → Label Studio → labels (real Label Studio, Kafka and ClickHouse)',
  () => {
    let tasks: LabelStudioTask[];
    let config: string;

    it('exports the queue as Label Studio tasks, most uncertain first, with the predictions as choices', async () => {
      const args = ['label', 'export', '--format', 'label-studio', '--out', join(dir, 'export')];
      const output = await driftlineOk(args, env);
      tasks = JSON.parse(readFileSync(join(dir, 'export', 'postings-tasks.json'), 'utf8')) as LabelStudioTask[];
      config = readFileSync(join(dir, 'export', 'postings-config.xml'), 'utf8');
      const columns = 'record_id, model_id, model_version, score, predicted_label';
      const queue = await clickhouse.query(`SELECT ${columns} FROM label_queue FINAL WHERE pipeline = 'postings'`);
      expect(queue.length).toBeGreaterThan(7);
      expect(output).toContain(`exported ${tasks.length} postings tasks`);
      const queued = [...new Set(queue.map((q) => String(q.record_id)))];
      expect(tasks.map((t) => t.data.record_id).sort()).toEqual(queued.sort());
      const scores = tasks.map((t) => Number(t.data.uncertainty));
      expect(scores).toEqual([...scores].sort((a, b) => b - a));

      const postings = await clickhouse.query(`SELECT id, title FROM postings FINAL`);
      const titles = new Map(postings.map((p) => [String(p.id), String(p.title)]));
      for (const task of tasks) {
        const q = queue.find((r) => r.record_id === task.data.record_id)!;
        expect(task.data.title).toBe(titles.get(String(q.record_id)));
        expect(String(task.data.text).startsWith(`${task.data.title}\n\n`)).toBe(true);
        const predicted = DEFAULT_LABEL_CLASSES[num(q.predicted_label)]!;
        const score = expect.closeTo(1 - num(q.score), 5);
        const model_version = `${q.model_id}@${q.model_version}`;
        expect(task.predictions).toEqual([{ model_version, score, result: choice(predicted) }]);
      }
    });

    it('the configs are valid Label Studio configs, and Label Studio orders the queue by the uncertainty', async () => {
      const output = await driftlineOk(['label', 'export', '--pipeline', 'frames', '--out', join(dir, 'export')], env);
      expect(output).toContain('exported 0 frames tasks');
      const framesConfig = readFileSync(join(dir, 'export', 'frames-config.xml'), 'utf8');
      expect([...framesConfig.matchAll(/<Choice value="([^"]+)"/g)].map((m) => m[1])).toEqual([...NEU_DET_CLASSES]);
      // Label Studio's own check of a config (400 with the errors when it is invalid).
      for (const label_config of [config, framesConfig]) await api('POST', '/api/projects/validate/', { label_config });

      const project = await api<{ id: number }>('POST', '/api/projects/', {
        title: `driftline ${database}`,
        label_config: config,
      });
      projectId = project.id;
      type Imported = { task_count: number; prediction_count: number };
      const imported = await api<Imported>('POST', `/api/projects/${projectId}/import`, tasks);
      expect(imported).toMatchObject({ task_count: tasks.length, prediction_count: tasks.length });
      // Uncertainty sampling serves the task whose prediction has the lowest score (score = 1 − uncertainty).
      const version = tasks[0]!.predictions[0]!.model_version;
      await api('PATCH', `/api/projects/${projectId}/`, { sampling: 'Uncertainty sampling', model_version: version });
      const next = await api<StudioTask>('GET', `/api/projects/${projectId}/next/`);
      const sameVersion = tasks.filter((t) => t.predictions[0]!.model_version === version);
      expect(next.data.record_id).toBe(sameVersion[0]!.data.record_id);
    });

    it('annotations come back from Label Studio as labels joined to predictions; bad tasks dead-lettered', async () => {
      // The six most uncertain: three agree with the model, three overrule it; the seventh is skipped. A task made
      // in Label Studio by hand has no record id: its annotation cannot become a label.
      const chosen = new Map<string, string>();
      for (const [i, task] of tasks.slice(0, 6).entries()) {
        const predicted = task.predictions[0]!.result[0]!.value.choices[0]!;
        const other = DEFAULT_LABEL_CLASSES.find((c) => c !== predicted)!;
        chosen.set(String(task.data.record_id), i % 2 === 0 ? predicted : other);
      }
      await api('POST', `/api/projects/${projectId}/import`, [{ data: { text: 'typed in by hand', title: 'manual' } }]);
      await annotate(new Map([...chosen, [String(tasks[6]!.data.record_id), null], ['manual', 'data_science']]));
      const exported = await exportProject();
      const file = join(dir, 'label-studio-export.json');
      writeFileSync(file, JSON.stringify(exported, null, 2));

      const output = await driftlineOk(['label', 'import', file], env);
      expect(output).toContain('imported 6 labels');
      expect(output).toContain(`${tasks.length - 6} Label Studio tasks have no annotation yet`);
      expect(output).toContain('1 invalid entries dead-lettered');
      const letters = await readAll(kafka, `${env.DRIFTLINE_TOPIC_PREFIX}labels.dlq`);
      expect(letters).toHaveLength(1);
      expect(letters[0]!.headers['dlq.error']).toMatch(/data\.record_id is missing/);
      expect(JSON.parse(letters[0]!.value.toString()).data.title).toBe('manual');

      await driftlineOk(['run', 'labels', '--until-idle'], env);
      const labels = await clickhouse.query(
        `SELECT record_id, label, label_name, source, labeled_at FROM labels FINAL`,
      );
      const predictions = await clickhouse.query(
        `SELECT record_id, label FROM predictions FINAL WHERE model_id = 'postings-b'`,
      );
      expect(labels.map((l) => String(l.record_id)).sort()).toEqual([...chosen.keys()].sort());
      const annotations = new Map(exported.map((t) => [t.data.record_id, t.annotations[0]]));
      for (const l of labels) {
        expect(
          predictions.some((p) => p.record_id === l.record_id),
          `a prediction for ${l.record_id}`,
        ).toBe(true);
        expect(DEFAULT_LABEL_CLASSES[num(l.label)]).toBe(chosen.get(String(l.record_id)));
        expect(l.label_name).toBe(chosen.get(String(l.record_id)));
        expect(l.source).toBe('annotator@driftline.local');
        expect(num(l.labeled_at)).toBe(Date.parse(annotations.get(String(l.record_id))!.updated_at));
      }
      // Joined to Model B's predictions: three labels agree with them and three overrule them.
      const agrees = (l: Record<string, unknown>) =>
        predictions.some((p) => p.record_id === l.record_id && num(p.label) === num(l.label));
      const agree = labels.filter(agrees);
      expect(agree).toHaveLength(3);

      // The one-click export (GET …/export) names the annotator by user id only: the source says so.
      const plain = await api<unknown[]>('GET', `/api/projects/${projectId}/export?exportType=JSON`);
      const me = await api<{ id: number }>('GET', '/api/current-user/whoami');
      const parsed = parseLabels(Buffer.from(JSON.stringify(plain)), { classes: DEFAULT_LABEL_CLASSES });
      expect(parsed.labels).toHaveLength(6);
      expect(new Set(parsed.labels.map((l) => l.source))).toEqual(new Set([`label-studio-user:${me.id}`]));
    });
  },
);
