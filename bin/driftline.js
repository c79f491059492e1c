#!/usr/bin/env node
// The driftline command: TypeScript sources run through tsx's loader, so there is no build step to forget.
import { readFileSync } from 'node:fs';

// `driftline --version` alone needs no loader (which costs about half a second to start): answered here.
if (process.argv.length === 3 && ['--version', '-V'].includes(process.argv[2])) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}
const { register } = await import('tsx/esm/api');
register();
await import('../cli/main.ts');
