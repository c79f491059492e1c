/**
 * The pipeline and model-kind names `--help` lists, without loading the pipelines and models themselves (they pull
 * in DuckDB, ONNX Runtime and TF.js). `cli-startup.test.ts` checks they match the registries.
 */
export const PIPELINE_NAMES = ['events', 'postings', 'frames', 'labels'] as const;
export const MODEL_KIND_NAMES = ['postings', 'frames'] as const;
