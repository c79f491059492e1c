// Entry of the fine-tune worker process. Plain JavaScript on purpose: it registers tsx's ESM loader itself, so it
// runs whatever flags (or none) the parent was started with — driftline's CLI, tsx, vitest — and then loads the
// TypeScript that does the work (the featurizer, trainer and exporter are shared with the rest of driftline).
// A worker thread cannot do this on Node 20 with `execArgv: ['--import', 'tsx']` (ERR_UNKNOWN_FILE_EXTENSION for a
// .ts entry), and the worker is a process anyway (see fine-tune-client.ts).
import { register } from 'tsx/esm/api';

// The parent gone (exit, crash, SIGKILL) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
register();
await import('./fine-tune-process.ts');
