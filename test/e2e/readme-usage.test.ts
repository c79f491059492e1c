/**
 * The README's Usage block runs as pasted: copied out of README.md and run by bash (stopping at the first failing
 * command) in a fresh copy of the project beside `shared/data`, as a new user would after `npm install`. The copy
 * holds the project's files (tracked and new, not ignored ones), the installed node_modules (linked) and the
 * compiled CLI entry that `npm install` builds. Embedded log and warehouse: no service variable is passed on.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataDir } from '../data-dir.ts';

/** The first ```sh block under "## Usage". */
function usageBlock(readme: string): string {
  const usage = readme.slice(readme.indexOf('\n## Usage\n'));
  const block = /```sh\n([\s\S]*?)```/.exec(usage);
  if (!block) throw new Error('README.md: no ```sh block under ## Usage');
  return block[1]!;
}

/** A copy of the project at <tmp>/driftline with <tmp>/shared/data beside it, ready as after `npm install`. */
function freshCopy(): string {
  const root = mkdtempSync(join(tmpdir(), 'driftline-readme-'));
  const copy = join(root, 'driftline');
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    try {
      cpSync(file, join(copy, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // deleted in the work tree, not yet in git
    }
  }
  symlinkSync(resolve('node_modules'), join(copy, 'node_modules'));
  mkdirSync(join(root, 'shared'));
  symlinkSync(dataDir(), join(root, 'shared', 'data'));
  execFileSync(process.execPath, ['bin/build-cli.js'], { cwd: copy }); // what `npm install` runs (prepare)
  return copy;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBlock(block: string, cwd: string): Promise<Ran> {
  // What a user's shell has: no DRIFTLINE_* and no services (the test run's global setup exports them).
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(DRIFTLINE_|KAFKA_|CLICKHOUSE_|SCHEMA_REGISTRY_)/.test(k)),
  );
  const child = spawn('bash', ['-euo', 'pipefail', '-c', block], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.once('exit', (code) => done({ code, stdout, stderr })));
}

let ran: Ran;
beforeAll(async () => {
  ran = await runBlock(usageBlock(readFileSync('README.md', 'utf8')), freshCopy());
}, 1_500_000); // minutes on an idle machine; a shared one under load takes many times that

describe("the README's Usage block", () => {
  it('runs as pasted, every command exiting 0', () => {
    expect(ran.code, `${ran.stdout}\n${ran.stderr}`).toBe(0);
  });

  it('prints what each command is for: help, version, postings and their labels, alerts, events, the site', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(ran.stdout).toMatch(/^Usage: driftline /m);
    expect(ran.stdout).toMatch(new RegExp(`^${version.replace(/\./g, '\\.')}$`, 'm'));
    expect(ran.stdout).toMatch(/^glassdoor +1230 +1230$/m); // both files, labelled by file name
    expect(ran.stdout).toMatch(/^events +change_point +\d+$/m);
    expect(ran.stdout).toMatch(/^events\n-+\n *10320$/m); // nyc_taxi's half-hourly counts
    expect(ran.stderr).toMatch(/^report built in [\d.]+ s from the embedded DuckDB warehouse$/m);
    expect(ran.stdout).toMatch(/\/report\n$/);
    // The one npm warning allowed: .npmrc's onnxruntime-node-install=skip (no CUDA download at install) is a key npm
    // itself does not know, and npx says so.
    const warnings = `${ran.stdout}${ran.stderr}`.split('\n').filter((line) => /npm warn/.test(line));
    expect(warnings.filter((line) => !/Unknown (project|env) config "onnxruntime-node-install"/.test(line))).toEqual(
      [],
    );
  });
});
