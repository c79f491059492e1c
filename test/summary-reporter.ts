import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with its wall time and the plain "N passed, N failed, N skipped" line that CI systems read. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
      // a file that failed to load
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed += 1;
    }
    // process.uptime(): the vitest process's whole life so far, services start-up and global setup included.
    const seconds = Math.round(process.uptime());
    const wall = `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
    process.stdout.write(`\ntests: wall time ${wall} (vitest, services start-up included)`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
