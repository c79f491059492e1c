// The background process that trains the shared models of a test run ahead (test/shared-models.ts), one kind after
// the other as named on the command line: `node --import tsx test/shared-models-pretrain.ts postings frames`.
// Started by test/sequencer.ts; killed by test/shared-models-setup.ts if the run ends first. Its output goes to
// `pretrain.log` in the run's cache directory.
import { dataDir } from './data-dir.ts';
import { trainAhead } from './shared-models.ts';

for (const kind of process.argv.slice(2)) {
  const { trainSeconds } = await trainAhead(kind, dataDir());
  console.log(`${kind}: ${trainSeconds === null ? 'already stored' : `trained in ${trainSeconds.toFixed(1)} s`}`);
}
