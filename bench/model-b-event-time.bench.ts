/**
 * What event-time training costs a replay: `driftline replay postings` over the real postings (HN 2013–2018, then the
 * 2026 runs with their ground truth as labels), embedded defaults, with Model B training off and on (event time, the
 * training barrier). Prints records/s and, with training on, the fine-tunes and the time the barrier held the stream;
 * medians with min–max over repeats, the two settings interleaved in each round so machine load hits both alike.
 * Model A is trained into a temp registry first (~20 s); each replay starts from a copy of that registry.
 *   npx tsx bench/model-b-event-time.bench.ts [--quick]        (--quick: the 2026 postings only, one round)
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatSpread, spread } from './stats.ts';

const quick = process.argv.includes('--quick');
const rounds = quick ? 1 : 3;
const DATA = process.env.DRIFTLINE_DATA_DIR || join(import.meta.dirname, '..', '..', 'shared', 'data');
const FOLDERS = quick ? ['hn-hiring-2026'] : ['hn-hiring-2013-2018', 'hn-hiring-2026'];
/** The demo's options for the real data (cli/demo/replays.ts). */
const OPTIONS = {
  windowDays: 30,
  driftReference: 'warm-up',
  warmUpRecords: quick ? 400 : 5000,
  minWindowSize: quick ? 30 : 200,
  retrainEvery: 200,
};
const CLI = join(import.meta.dirname, '..', 'bin', 'driftline.js');
const run = promisify(execFile);

const work = mkdtempSync(join(tmpdir(), 'driftline-bench-model-b-'));
const base = { ...process.env, DRIFTLINE_DATA_DIR: DATA, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' };
/** One input folder for the replay: links to the postings folders on the timeline (Glassdoor has no dates). */
const INPUT = join(work, 'input');
mkdirSync(INPUT);
for (const f of FOLDERS) symlinkSync(join(DATA, 'postings', f), join(INPUT, f));
const envFor = (home: string) => ({
  ...base,
  DRIFTLINE_HOME: home,
  DRIFTLINE_MODELS_MANIFEST: join(home, 'models.json'),
});

interface Replay {
  recordsPerS: number;
  seconds: number;
  fineTunes: number;
  promoted: number;
  barrierS: number;
  waits: number;
}

async function replay(train: boolean, round: number): Promise<Replay> {
  const home = join(work, `${train ? 'on' : 'off'}-${round}`);
  cpSync(join(work, 'a'), home, { recursive: true });
  const config = join(home, 'config.json');
  writeFileSync(config, JSON.stringify({ pipelines: { postings: { ...OPTIONS, train } } }));
  const { stderr } = await run('node', [CLI, 'replay', 'postings', '--config', config, '--input', INPUT], {
    env: envFor(home),
    maxBuffer: 64 << 20,
  });
  const done = /done in ([\d.]+) s: (\d+) records \((\d+) records\/s\)/.exec(stderr);
  if (!done) throw new Error(`no summary in the replay's output:\n${stderr.slice(-2000)}`);
  const trained =
    /(\d+) fine-tunes, (\d+) promoted; the training barrier held the stream ([\d.]+) s in (\d+) waits/.exec(stderr);
  if (train && !trained) throw new Error(`no training line in the replay's output:\n${stderr.slice(-2000)}`);
  return {
    seconds: Number(done[1]),
    recordsPerS: Number(done[3]),
    fineTunes: Number(trained?.[1] ?? 0),
    promoted: Number(trained?.[2] ?? 0),
    barrierS: Number(trained?.[3] ?? 0),
    waits: Number(trained?.[4] ?? 0),
  };
}

async function main() {
  process.stderr.write(`training Model A into ${work}/a …\n`);
  await run('node', [CLI, 'models', 'train', 'postings', '--data', DATA], {
    env: envFor(join(work, 'a')),
    maxBuffer: 64 << 20,
  });
  const off: Replay[] = [];
  const on: Replay[] = [];
  for (let round = 0; round < rounds; round++) {
    off.push(await replay(false, round));
    on.push(await replay(true, round));
    process.stderr.write(
      `round ${round + 1}/${rounds}: off ${off.at(-1)!.recordsPerS}/s, on ${on.at(-1)!.recordsPerS}/s ` +
        `(${on.at(-1)!.fineTunes} fine-tunes, barrier ${on.at(-1)!.barrierS} s)\n`,
    );
  }
  const of = (rs: Replay[], key: keyof Replay) => spread(rs.map((r) => r[key]));
  console.log(`\nreplay postings, ${quick ? 'HN 2026' : 'HN 2013–2018 + 2026'}, embedded → DuckDB, ${rounds} rounds`);
  console.log(
    `  training off                 ` +
      ` ${formatSpread(of(off, 'recordsPerS'), ' rec/s')}; ${formatSpread(of(off, 'seconds'), ' s')}`,
  );
  console.log(
    `  training on (event time)     ` +
      ` ${formatSpread(of(on, 'recordsPerS'), ' rec/s')}; ${formatSpread(of(on, 'seconds'), ' s')}`,
  );
  console.log(`    fine-tunes ${formatSpread(of(on, 'fineTunes'))}, promoted ${formatSpread(of(on, 'promoted'))}`);
  console.log(
    `    barrier held the stream ${formatSpread(of(on, 'barrierS'), ' s')} in ${formatSpread(of(on, 'waits'))} waits`,
  );
  console.log(
    `  ratio on/off (median rates)   ${(of(on, 'recordsPerS').median / of(off, 'recordsPerS').median).toFixed(2)}`,
  );
}

await main();
