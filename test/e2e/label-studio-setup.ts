// A step of test/global-setup.ts: when the run includes the Label Studio round trip (test/e2e/label-studio.test.ts),
// `bash scripts/services.sh label-studio-up` starts in the background, so that Label Studio's cold install and first
// start (PyPI packages, then its database migrations: minutes) overlap the test files that run before it. The test's
// own `label-studio-up` waits for this one (a lock in the script) and finds the server running. Niced: the files
// running meanwhile keep the CPU first. Its output: .services/logs/label-studio-up.log.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { TestProject } from 'vitest/node';

const testFile = join('test', 'e2e', 'label-studio.test.ts');

export function startLabelStudioInBackground(project: TestProject, root: string): void {
  if (!runIncludes(project, root)) return;
  const logs = join(process.env.DRIFTLINE_SERVICES_DIR ?? join(root, '.services'), 'logs');
  mkdirSync(logs, { recursive: true });
  const log = openSync(join(logs, 'label-studio-up.log'), 'w');
  const command = ['-n', '10', 'bash', 'scripts/services.sh', 'label-studio-up'];
  const child = spawn('nice', command, { cwd: root, detached: true, stdio: ['ignore', log, log] });
  child.on('error', () => {}); // the test's own label-studio-up reports what is wrong
  child.unref();
}

/**
 * Whether the run's file filters (`vitest run a b`) let the Label Studio test in, with vitest's own rule (a filter
 * matches when the file's path contains it). No filters: the whole suite. The filters are not in vitest's typed API:
 * if they ever go missing, this answers yes (a background start the run does not use costs only CPU).
 */
function runIncludes(project: TestProject, root: string): boolean {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  if (!filters?.length) return true;
  const file = join(root, testFile);
  return filters.some((filter) => {
    if (isAbsolute(filter)) return file.startsWith(filter);
    const path = testFile.toLowerCase();
    return path.includes(filter.toLowerCase()) || path.includes(relative(root, filter).toLowerCase());
  });
}
