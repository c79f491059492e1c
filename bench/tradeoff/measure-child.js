// Entry of a measurement process (see measure-in-process.ts). Plain JavaScript on purpose, like
// models/continual/fine-tune-worker.js: it registers tsx's loader itself, whatever the parent was started with.
import { register } from 'tsx/esm/api';

// The parent gone closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
register();
await import('./measure-process.ts');
