import { existsSync, readFileSync } from 'node:fs';

/**
 * A `--config <file>`: JSON with one key, `pipelines`, mapping a pipeline's name to its options, e.g.
 * `{"pipelines": {"events": {"windowMinutes": 15}}}`. Here only the file's shape is checked; each pipeline checks
 * its own options (names and types) before it starts.
 */
export function readConfigFile(path: string): Record<string, Record<string, unknown>> {
  if (!existsSync(path)) throw new Error(`config file ${path} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed))
    throw new Error(`config file ${path} must hold a JSON object like {"pipelines": {"events": {...}}}`);
  const unknown = Object.keys(parsed).filter((key) => key !== 'pipelines');
  if (unknown.length > 0)
    throw new Error(
      `config file ${path}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (the only key is "pipelines")`,
    );
  const pipelines = parsed.pipelines ?? {};
  if (!isObject(pipelines))
    throw new Error(`config file ${path}: "pipelines" must be an object of pipeline names to options`);
  for (const [name, options] of Object.entries(pipelines)) {
    if (!isObject(options))
      throw new Error(
        `config file ${path}: "pipelines.${name}" must be an object of options, got ${JSON.stringify(options)}`,
      );
  }
  return pipelines as Record<string, Record<string, unknown>>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
