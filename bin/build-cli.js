#!/usr/bin/env node
// Compiles the CLI's entry, cli/main.ts with what it imports statically (the command definitions and their help, not
// the commands: those load when they run), into dist/cli.js, so `driftline --help` starts without the TypeScript
// loader. Run by `npm install` / `npm ci` (the prepare script) and `npm test`; bin/driftline.js uses the file only
// while it is newer than every source it was built from (dist/cli-inputs.json), else runs the sources.
import { renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
try {
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['cli/main.ts'],
    bundle: true,
    packages: 'external', // commander and the rest load from node_modules as usual
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: 'dist/cli.tmp.js',
    metafile: true,
    logLevel: 'warning',
  });
  writeFileSync(`${root}dist/cli-inputs.json`, `${JSON.stringify(Object.keys(result.metafile.inputs))}\n`);
  // renamed into place last: a driftline starting meanwhile sees the old file or the new one, never half of one
  renameSync(`${root}dist/cli.tmp.js`, `${root}dist/cli.js`);
} catch (error) {
  // never fails an install: driftline then runs from source, only slower to start
  process.stderr.write(
    `driftline: CLI entry not compiled (${error instanceof Error ? error.message : error}); it runs from source\n`,
  );
}
