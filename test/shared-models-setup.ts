// Vitest globalSetup: the cache directory for the trained models this run's test files share
// (test/shared-models.ts). Set here, before any test file is forked, so every file of the run sees the same
// DRIFTLINE_TEST_MODEL_CACHE: a fresh directory removed when the run ends, or the one already set (kept, so a
// developer can reuse trained models across runs; its entries are content-addressed). When the run ends, a
// background training still under way (test/sequencer.ts) is stopped.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pendingTrainers } from './shared-models-pending.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export default function setup(): () => void {
  const kept = process.env.DRIFTLINE_TEST_MODEL_CACHE;
  const dir = kept ?? join(root, 'node_modules', '.cache', 'driftline-test', `run-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  process.env.DRIFTLINE_TEST_MODEL_CACHE = dir;
  return () => {
    for (const pid of pendingTrainers(dir)) process.kill(pid, 'SIGTERM');
    if (!kept) rmSync(dir, { recursive: true, force: true });
  };
}
