#!/usr/bin/env node
// Fails when a tracked source file has a line longer than MAX_COLUMNS. Biome's formatter wraps code at the same
// width but leaves long comments and strings alone, so this check covers what it cannot.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX_COLUMNS = 120;
const SOURCE = /\.(ts|tsx|js|mjs|cjs)$/;
// Generated or vendored output, not written by hand.
const SKIPPED = [/(^|\/)node_modules\//, /(^|\/)dist\//, /^reports\/\.observablehq\//];

const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  .split('\0')
  .filter((file) => SOURCE.test(file) && !SKIPPED.some((skip) => skip.test(file)));

const offending = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // tracked but deleted in the working tree
  }
  text.split(/\r?\n/).forEach((line, i) => {
    // Columns as an editor counts them: code points, not UTF-16 units.
    const columns = [...line].length;
    if (columns > MAX_COLUMNS) offending.push(`${file}:${i + 1} (${columns} columns)`);
  });
}

if (offending.length > 0) {
  console.error(offending.join('\n'));
  console.error(`${offending.length} line(s) longer than ${MAX_COLUMNS} columns.`);
  process.exit(1);
}
console.log(`${files.length} files: every line is at most ${MAX_COLUMNS} columns.`);
