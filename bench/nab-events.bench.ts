/**
 * NAB scores of the events anomaly score beside the baselines, in one run (bench/nab-events.ts):
 *   npx tsx bench/nab-events.bench.ts [--repeats N]        (also: driftline bench events)
 * Reads NAB under DRIFTLINE_DATA_DIR (default ../shared/data): events/nab/{data,labels,profiles.json}.
 */
import { join } from 'node:path';
import { formatEventsBench, runEventsBench } from './nab-events.ts';

const DATA = process.env.DRIFTLINE_DATA_DIR || join(import.meta.dirname, '..', '..', 'shared', 'data');
const at = process.argv.indexOf('--repeats');
const repeats = at > 0 ? Number(process.argv[at + 1]) : 3;
const log = (line: string) => process.stderr.write(`${line}\n`);
const result = runEventsBench(join(DATA, 'events', 'nab'), { repeats, log });
console.log(formatEventsBench(result));
