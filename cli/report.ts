/** `driftline report build|preview`: the static report site (reports/). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { commandSettings } from '../config/settings.ts';
import { buildReport } from '../reports/build.ts';
import { serveStatic } from '../reports/serve.ts';

export interface ReportBuildOptions {
  out?: string;
  config?: string;
}

export async function reportBuildCommand(options: ReportBuildOptions): Promise<string> {
  const settings = commandSettings(options.config);
  const started = Date.now();
  const { siteDir } = await buildReport({
    out: options.out,
    settings,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stderr.write(
    `report built in ${((Date.now() - started) / 1000).toFixed(1)} s from ` +
      `the ${settings.clickhouseUrl ? 'ClickHouse' : 'embedded DuckDB'} warehouse\n`,
  );
  process.stdout.write(`${siteDir}\n`);
  return siteDir;
}

export interface ReportPreviewOptions {
  dir?: string;
  port?: number;
  host?: string;
}

/** Serves the built site until Ctrl-C. */
export async function reportPreviewCommand(options: ReportPreviewOptions): Promise<void> {
  const dir = resolve(options.dir ?? join(commandSettings().home, 'report'));
  if (!existsSync(join(dir, 'index.html')))
    throw new Error(`no built report in ${dir}: run \`driftline report build\` first`);
  const server = await serveStatic(dir, { port: options.port ?? 3000, host: options.host });
  process.stdout.write(`serving ${dir} at ${server.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((done) => {
    const stop = () => void server.close().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
