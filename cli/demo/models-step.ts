import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings } from '../../config/settings.ts';
import { listImageFiles } from '../../connectors/camera/image-directory.ts';
import { neuDetImagesDir } from '../../models/frames/dataset.ts';
import { modelKind } from '../../models/kinds.ts';
import { configHash, lineageHash } from '../../models/registry/lineage.ts';
import { type ModelEntry, ModelRegistry } from '../../models/registry/registry.ts';
import { modelsQuantize, modelsTrain } from '../models.ts';

/** The models the demo needs: the kind `driftline models train` knows, its id, and the files it trains on. */
const DEMO_MODELS = [
  {
    kind: 'postings',
    id: 'postings-a',
    trainingFiles: async (data: string) => csvFiles(join(data, 'postings', 'glassdoor-2020')),
  },
  { kind: 'frames', id: 'frames-cnn', trainingFiles: (data: string) => listImageFiles(neuDetImagesDir(data)) },
] as const;

const csvFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => join(dir, f));

export interface DemoModels {
  /** Model A (fp32, production). */
  postingsA: ModelEntry;
  frames: ModelEntry;
  /** One line per model: what was trained, quantized or reused. */
  lines: string[];
  /** Whether anything was trained or quantized now. */
  trainedAny: boolean;
}

/**
 * Model A and the frame CNN, each with its int8 variant (the frames pipeline runs both; the benchmark compares
 * them). A version is reused when it was trained on the same data (dataset hash: the files' contents) with the same
 * configuration, and its artifact is here and intact; otherwise it is trained now with `driftline models train`.
 * The fp32 version is made the production one, so the pipelines (production, else latest) run it, not a variant
 * or a model trained on other data.
 */
export async function ensureDemoModels(
  dataDir: string,
  registry = ModelRegistry.fromSettings(loadSettings()),
): Promise<DemoModels> {
  const lines: string[] = [];
  const entries: ModelEntry[] = [];
  let trainedAny = false;
  for (const model of DEMO_MODELS) {
    const datasetHash = lineageHash(await model.trainingFiles(dataDir));
    const config = configHash(modelKind(model.kind).kind.defaultConfig);
    const intact = (e: ModelEntry) => registry.verify(e.id, e.version).ok;
    let fp32 = registry
      .list(model.id)
      .filter((e) => e.precision === 'fp32' && e.dataset_hash === datasetHash && e.config_hash === config && intact(e))
      .at(-1);
    const reused = fp32 !== undefined;
    if (!fp32) fp32 = await modelsTrain(model.kind, { data: dataDir, id: model.id });
    const parent = `${fp32.id}@${fp32.version}`;
    let int8 = registry.list(model.id).find((e) => e.precision === 'int8' && e.parent === parent && intact(e));
    const quantized = int8 === undefined;
    if (!int8) int8 = await modelsQuantize(model.id, { version: fp32.version, precision: 'int8' });
    if (fp32.stage !== 'production') fp32 = registry.promote(fp32.id, fp32.version);
    trainedAny ||= !reused || quantized;
    const accuracy =
      fp32.metrics.accuracy === undefined ? '' : `, held-out accuracy ${fp32.metrics.accuracy.toFixed(3)}`;
    lines.push(
      `${reused ? 'reused' : 'trained'} ${fp32.id}@${fp32.version}${accuracy}; ` +
        `int8 ${int8.id}@${int8.version} ${quantized ? 'quantized' : 'reused'}`,
    );
    entries.push(fp32);
  }
  return { postingsA: entries[0]!, frames: entries[1]!, lines, trainedAny };
}
