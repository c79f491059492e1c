#!/usr/bin/env node
// The driftline command. Its entry compiled ahead of time (dist/cli.js, by bin/build-cli.js at install) starts in
// about the time of plain node; the commands' TypeScript sources load through tsx when one runs. Without that file,
// or when a source it was built from has changed since, everything runs from source through tsx's loader (about
// half a second more to start), so there is no build step to forget.
import { existsSync, readFileSync, statSync } from 'node:fs';

// `driftline --version` alone needs neither: answered here.
if (process.argv.length === 3 && ['--version', '-V'].includes(process.argv[2])) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}

/** dist/cli.js when it is newer than every file it was compiled from. */
function compiledEntry() {
  const entry = new URL('../dist/cli.js', import.meta.url);
  const inputs = new URL('../dist/cli-inputs.json', import.meta.url);
  if (!existsSync(entry) || !existsSync(inputs)) return undefined;
  const built = statSync(entry).mtimeMs;
  const sources = JSON.parse(readFileSync(inputs, 'utf8'));
  const fresh = sources.every((file) => {
    const source = new URL(`../${file}`, import.meta.url);
    return existsSync(source) && statSync(source).mtimeMs <= built;
  });
  return fresh ? entry : undefined;
}

const compiled = compiledEntry();
if (compiled) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
